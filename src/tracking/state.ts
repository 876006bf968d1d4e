/**
 * The tracker's live state between chunks: what a stream carries from one chunk to the next
 * (and persists with the registry, so a restart or another process resumes mid-track).
 *
 * Pure data plus a compact, versioned encoding. Vectors are unit length and stored as int8
 * (v·127, rounded): a cosine moves by well under 0.01, and a 540-d vector takes 540 bytes
 * instead of 2,160. An unidentified track keeps at most STATE_EXEMPLARS exemplars of its bank.
 */
import { PaddockError } from '../errors/index.ts';
import type { Box, FeatureBank } from './types.ts';

export const TRACKER_STATE_VERSION = 1;
/** Exemplars of an unidentified track's own bank kept in the state. */
export const STATE_EXEMPLARS = 4;
/** Horse IDs a track remembers having been seen beside (cannot-link evidence). */
export const STATE_CO_VISIBLE_HORSES = 32;

export type TrackPhase = 'tentative' | 'tracked' | 'lost';

/** A box as a track last reported it. */
export interface ReportedBox {
  box: Box;
  score: number;
}

/** The constant-velocity Kalman filter's state ([cx, cy, w, h], velocities, per-axis covariances). */
export interface KalmanState {
  position: number[];
  velocity: number[];
  pp: number[];
  pv: number[];
  vv: number[];
}

export interface TrackSnapshot {
  key: number;
  phase: TrackPhase;
  kalman: KalmanState;
  hits: number;
  lostFrames: number;
  confirmed: boolean;
  /** The horse this track is, when decided. */
  horseId: string | null;
  /** The track's own clean-view bank, only while it has no horse (a horse's bank is in the registry). */
  bank: FeatureBank | null;
  appearance: Float32Array | null;
  /** Wall-clock ms of the track's first observation. */
  firstSeenMs: number;
  cleanViews: number;
  visibleViews: number;
  selfSimilarity: number;
  fullW: number;
  fullH: number;
  /** Boxes of this (unidentified) track were reported as provisional in an earlier chunk. */
  provisional: boolean;
  /** The hidden horse this track stepped out as (see Track.emergedFrom); absent in older states. */
  emergedFrom?: string | null;
  /** While lost: the box that swallowed its horse (see Track.swallowedIn); absent in older states. */
  swallowedIn?: Box | null;
  /** The box and score it was last reported with (see Track.lastReported); absent in older states. */
  lastReported?: ReportedBox | null;
  /** Horses seen in the same frame as this track, with the number of such frames (cannot-link evidence). */
  coVisibleHorses: [string, number][];
  /** Unidentified tracks seen in the same frame as this one, with the number of frames. */
  coVisibleTracks: [number, number][];
}

export interface TrackerState {
  version: typeof TRACKER_STATE_VERSION;
  /** The chunk this state follows. */
  sequence: number;
  /** Wall-clock ms of the last frame processed. */
  lastFrameMs: number;
  nextTrackKey: number;
  tracks: TrackSnapshot[];
}

interface EncodedBank {
  first: string;
  mean: string;
  exemplars: string[];
}

/** Compact bytes of a state (JSON with int8 vectors as base64). */
export function encodeTrackerState(state: TrackerState): Buffer {
  const tracks = state.tracks.map((track) => ({
    ...track,
    kalman: roundKalman(track.kalman),
    selfSimilarity: Number.isNaN(track.selfSimilarity) ? null : round(track.selfSimilarity, 4),
    fullW: round(track.fullW, 2),
    fullH: round(track.fullH, 2),
    bank: track.bank === null ? null : encodeBank(track.bank),
    appearance: track.appearance === null ? null : encodeVector(track.appearance),
    swallowedIn: track.swallowedIn ? roundBox(track.swallowedIn) : null,
    lastReported: track.lastReported ? { box: roundBox(track.lastReported.box), score: round(track.lastReported.score, 3) } : null,
  }));
  return Buffer.from(JSON.stringify({ ...state, tracks }), 'utf8');
}

/** The state encoded by encodeTrackerState; a clear TRACKING_STATE_INVALID error for anything else. */
export function decodeTrackerState(bytes: Uint8Array): TrackerState {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (error) {
    throw invalid(`not JSON (${(error as Error).message})`);
  }
  if (!isObject(raw)) throw invalid('not an object');
  if (raw.version !== TRACKER_STATE_VERSION) throw invalid(`version ${String(raw.version)}, expected ${TRACKER_STATE_VERSION}`);
  const sequence = integer(raw.sequence, 'sequence');
  const lastFrameMs = finite(raw.lastFrameMs, 'lastFrameMs');
  const nextTrackKey = integer(raw.nextTrackKey, 'nextTrackKey');
  if (!Array.isArray(raw.tracks)) throw invalid('tracks is not an array');
  const tracks = raw.tracks.map((value: unknown, index: number) => decodeTrack(value, `tracks[${index}]`));
  return { version: TRACKER_STATE_VERSION, sequence, lastFrameMs, nextTrackKey, tracks };
}

function decodeTrack(value: unknown, where: string): TrackSnapshot {
  if (!isObject(value)) throw invalid(`${where} is not an object`);
  const phase = value.phase;
  if (phase !== 'tentative' && phase !== 'tracked' && phase !== 'lost') throw invalid(`${where}.phase ${String(phase)}`);
  const kalman = value.kalman;
  if (!isObject(kalman)) throw invalid(`${where}.kalman is not an object`);
  const axes = (name: string): number[] => {
    const list = kalman[name];
    if (!Array.isArray(list) || list.length !== 4 || !list.every((x) => Number.isFinite(x))) throw invalid(`${where}.kalman.${name}`);
    return list as number[];
  };
  const horseId = value.horseId;
  if (horseId !== null && typeof horseId !== 'string') throw invalid(`${where}.horseId`);
  const counts = <K>(list: unknown, name: string, isKey: (key: unknown) => boolean): [K, number][] => {
    if (!Array.isArray(list) || !list.every((pair) => Array.isArray(pair) && pair.length === 2 && isKey(pair[0]) && Number.isInteger(pair[1]))) {
      throw invalid(`${where}.${name}`);
    }
    return list as [K, number][];
  };
  return {
    key: integer(value.key, `${where}.key`),
    phase,
    kalman: { position: axes('position'), velocity: axes('velocity'), pp: axes('pp'), pv: axes('pv'), vv: axes('vv') },
    hits: integer(value.hits, `${where}.hits`),
    lostFrames: integer(value.lostFrames, `${where}.lostFrames`),
    confirmed: value.confirmed === true,
    horseId,
    bank: value.bank === null || value.bank === undefined ? null : decodeBank(value.bank, `${where}.bank`),
    appearance: value.appearance === null || value.appearance === undefined ? null : decodeVector(value.appearance, `${where}.appearance`),
    firstSeenMs: finite(value.firstSeenMs, `${where}.firstSeenMs`),
    cleanViews: integer(value.cleanViews, `${where}.cleanViews`),
    visibleViews: integer(value.visibleViews, `${where}.visibleViews`),
    selfSimilarity: value.selfSimilarity === null ? Number.NaN : finite(value.selfSimilarity, `${where}.selfSimilarity`),
    fullW: finite(value.fullW, `${where}.fullW`),
    fullH: finite(value.fullH, `${where}.fullH`),
    provisional: value.provisional === true,
    emergedFrom: typeof value.emergedFrom === 'string' ? value.emergedFrom : null,
    swallowedIn: value.swallowedIn === null || value.swallowedIn === undefined ? null : decodeBox(value.swallowedIn, `${where}.swallowedIn`),
    lastReported: value.lastReported === null || value.lastReported === undefined ? null : decodeReported(value.lastReported, `${where}.lastReported`),
    coVisibleHorses: counts<string>(value.coVisibleHorses, 'coVisibleHorses', (key) => typeof key === 'string'),
    coVisibleTracks: counts<number>(value.coVisibleTracks, 'coVisibleTracks', (key) => Number.isInteger(key)),
  };
}

function encodeBank(bank: FeatureBank): EncodedBank {
  return { first: encodeVector(bank.first), mean: encodeVector(bank.mean), exemplars: bank.exemplars.slice(-STATE_EXEMPLARS).map(encodeVector) };
}

function decodeBank(value: unknown, where: string): FeatureBank {
  if (!isObject(value) || !Array.isArray(value.exemplars)) throw invalid(`${where} is not a bank`);
  const first = decodeVector(value.first, `${where}.first`);
  const mean = decodeVector(value.mean, `${where}.mean`);
  const exemplars = value.exemplars.map((item: unknown, i: number) => decodeVector(item, `${where}.exemplars[${i}]`));
  if (mean.length !== first.length || exemplars.some((exemplar) => exemplar.length !== first.length)) throw invalid(`${where}: vectors of different dimensions`);
  return { first, mean, exemplars };
}

function encodeVector(vector: Float32Array): string {
  const bytes = new Int8Array(vector.length);
  for (let i = 0; i < vector.length; i += 1) bytes[i] = Math.max(-127, Math.min(127, Math.round(vector[i]! * 127)));
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

function decodeVector(value: unknown, where: string): Float32Array {
  if (typeof value !== 'string' || value.length === 0) throw invalid(`${where} is not an encoded vector`);
  const bytes = Buffer.from(value, 'base64');
  const vector = new Float32Array(bytes.length);
  let norm = 0;
  for (let i = 0; i < bytes.length; i += 1) {
    vector[i] = bytes.readInt8(i) / 127;
    norm += vector[i]! * vector[i]!;
  }
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < vector.length; i += 1) vector[i] = vector[i]! / norm;
  return vector;
}

function roundKalman(kalman: KalmanState): KalmanState {
  const r = (list: number[]) => list.map((x) => round(x, 3));
  return { position: r(kalman.position), velocity: r(kalman.velocity), pp: r(kalman.pp), pv: r(kalman.pv), vv: r(kalman.vv) };
}

function roundBox(box: Box): Box {
  return { x: round(box.x, 1), y: round(box.y, 1), w: round(box.w, 1), h: round(box.h, 1) };
}

function decodeReported(value: unknown, where: string): ReportedBox {
  if (!isObject(value)) throw invalid(`${where} is not an object`);
  return { box: decodeBox(value.box, `${where}.box`), score: finite(value.score, `${where}.score`) };
}

function decodeBox(value: unknown, where: string): Box {
  if (!isObject(value)) throw invalid(`${where} is not a box`);
  const box = { x: finite(value.x, `${where}.x`), y: finite(value.y, `${where}.y`), w: finite(value.w, `${where}.w`), h: finite(value.h, `${where}.h`) };
  if (box.w <= 0 || box.h <= 0) throw invalid(`${where} is empty`);
  return box;
}

/** A box from a Kalman state's [cx, cy, w, h]. */
export function kalmanBox(kalman: KalmanState): Box {
  const [cx, cy, w, h] = kalman.position as [number, number, number, number];
  return { x: cx - w / 2, y: cy - h / 2, w, h };
}

function round(value: number, digits: number): number {
  return Number(value.toFixed(digits));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function integer(value: unknown, name: string): number {
  if (!Number.isInteger(value)) throw invalid(`${name} is not an integer`);
  return value as number;
}

function finite(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${name} is not a finite number`);
  return value;
}

function invalid(message: string): PaddockError {
  return new PaddockError('TRACKING_STATE_INVALID', `tracker state: ${message}`);
}
