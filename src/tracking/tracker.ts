/**
 * The tracker of one chunk: detections in, horse identities out; its live tracks carry over to
 * the stream's next chunk (TrackerState).
 *
 * Per frame, detections are associated with tracks in three stages (./association.ts).
 * Unmatched tentative tracks die (so a single false detection
 *  never becomes a horse), unmatched tracked tracks become lost, lost tracks end after
 *  maxLostFrames, unmatched confident detections start tentative tracks, and a tentative track
 *  is confirmed after confirmHits hits.
 *
 * Occlusion: a detection is occluded when at least bankMaxOverlap of it lies inside another
 * detection's box (grown by occlusionMargin). Only confident views that are unoccluded and clear
 * of the frame's edges (within frameEdgeMargin) are "clean" views: they alone teach feature banks
 * and count towards a new horse. A horse walking in or out through the frame edge shows only part
 * of itself, and the embedding of that part can be far from the horse's; learnt, it would drag
 * the track's query away from the horse's registry entry and make a re-entering horse a new one.
 * The track's box size (for completing occluded pieces) learns from confident unoccluded views,
 * frame edges included, as a cut-off horse is reported at its visible extent. An occluded
 * detection that is small for its track (area below occludedReportMinAreaRatio of that size) or
 * weak (score below occludedReportMinScore) is only the visible piece of the horse: it steers
 * the track, but the horse's reported box is its completed extent (completeOccluded) or nothing.
 *
 * Identity (the registry decision, from confirmation on): see matchIdentities. The track's query
 * is its clean-view bank mean once it has newHorseMinCleanViews clean views, else its running
 * appearance. A horse keeps one box per frame (the more confident) when two of its tracks overlap
 * in time. Statuses, precisely:
 *  - "continued": the horse's track from the previous chunk (from the tracker state; without
 *    one, a carry-over track seeded at the last box of a known horse seen at most
 *    continueWithinS before the chunk start) was matched in this chunk.
 *  - "reactivated": a known horse claimed by a newly confirmed track through the registry
 *    decision (and not already "continued" in this chunk).
 *  - "new": a confirmed track no candidate horse matched (and, in herd mode, the herd is not
 *    complete), once it is established — tracked for newHorseMinTrackS with newHorseMinCleanViews
 *    clean views, or (a horse never seen clean) for newHorseMaxWaitS, mostly in view now and then,
 *    not turning clean and with a stable look; until then it is asked again every frame and may
 *    still reactivate a known horse, and its boxes are held, then attributed to whichever horse it
 *    gets. Held boxes still held at the chunk's end are reported as a provisional track; the chunk
 *    that decides the track lists it as identified. The visible piece of a partly hidden horse or
 *    a short-lived false track thus never creates a horse.
 *  Candidates exclude horses the track was seen beside (cannot-link, recordCoVisibility), and a
 *  new horse waits while a look-alike known horse seems visible elsewhere.
 *    It gets tracking number nextTrackingId (then +1), ID horseIdFor(number) and colour
 *    colorFor(number).
 *
 * One tracker serves one chunk; its finish() returns the live tracks as a TrackerState that the
 * stream persists with the registry, so the next chunk — in this process or after a restart —
 * resumes them (restoreState). A chunk that does not follow the state directly resets motion.
 *
 * Herd mode: the herd's horses are the known horses listed in officialIds (all known horses if
 * the list is empty) plus horses created in this chunk. While the herd has fewer horses than
 * expectedCount, decisions are as above (discovery). Once complete, a confirmed track is assigned
 * to the most similar herd horse that is not visible right now, by the same optimal assignment
 * but without threshold; if none is free it waits (its detections held back) and retries on
 * later frames. No new horse is created.
 *
 * Pure and deterministic: no clocks, no randomness, insertion-ordered iteration only.
 */
import { PaddockError } from '../errors/index.ts';
import { matchDetections } from './association.ts';
import { bankSimilarity, cloneFeatureBank, createFeatureBank, dot, normalizeInPlace, updateFeatureBank } from './featureBank.ts';
import { HorseGallery } from './gallery.ts';
import { boxArea, coverage, iou } from './geometry.ts';
import { matchIdentities } from './identity.ts';
import { BoxKalman } from './kalman.ts';
import { resolveTrackerOptions, type TrackerOptions } from './options.ts';
import { kalmanBox, STATE_CO_VISIBLE_HORSES, TRACKER_STATE_VERSION, type TrackerState, type TrackSnapshot } from './state.ts';
import { colorFor, horseIdFor, type Box, type FeatureBank, type FramePerception, type KnownHorse } from './types.ts';

export type HorseStatus = 'new' | 'reactivated' | 'continued';

export interface TrackedBox {
  frameIndex: number;
  timestampS: number;
  box: Box;
  score: number;
}

export interface HorseChunkResult {
  id: string;
  trackingId: number;
  color: string;
  name: string | null;
  status: HorseStatus;
  /** Detections attributed to this horse in this chunk. */
  detections: number;
  meanConfidence: number;
  firstSeen: Date;
  lastSeen: Date;
  /** The horse's feature bank after this chunk (a copy owned by the result). */
  features: FeatureBank;
  lastBox: Box;
  /** Track key whose thumbnail candidate (largest w·h·score) is this horse's best; null if none. */
  thumbnailTrackKey: number | null;
  thumbnailQuality: number;
  /** Every attributed detection, in frame order (for MOT output). */
  frames: TrackedBox[];
}

/** A confirmed track whose new-vs-known decision is not final yet: reported with its track key. */
export interface ProvisionalTrackResult {
  trackKey: number;
  detections: number;
  meanConfidence: number;
  firstSeen: Date;
  lastSeen: Date;
  lastBox: Box;
  frames: TrackedBox[];
}

/** A track reported as provisional in an earlier chunk that is now decided. */
export interface IdentifiedTrack {
  trackKey: number;
  horseId: string;
  status: HorseStatus;
}

export interface ChunkTrackingResult {
  /** Horses seen in this chunk, by tracking number. */
  horses: HorseChunkResult[];
  /** Confirmed tracks still undecided at the chunk's end, with their boxes of this chunk. */
  provisional: ProvisionalTrackResult[];
  /** Earlier provisional tracks decided in this chunk. */
  identified: IdentifiedTrack[];
  /** The live tracks, for the stream's next chunk. */
  state: TrackerState;
  nextTrackingId: number;
  /** Time spent in registry decisions, by the injected clock (0 without one). */
  registryMatchMs: number;
}

export interface DetectionAssignment {
  /** Stable key of the track the detection went to; null when it went to none. */
  trackKey: number | null;
  /** The track's horse, when it already has one. */
  horseId: string | null;
  /** True when this detection is now its track's best thumbnail candidate (w·h·score). */
  bestThumbnailCandidate: boolean;
}

export interface FrameUpdate {
  frameIndex: number;
  /** One entry per detection of the frame, same order. */
  assignments: DetectionAssignment[];
}

export interface HerdSpec {
  expectedCount: number;
  officialIds: string[];
}

export interface ChunkTrackerInit {
  known: readonly KnownHorse[];
  nextTrackingId: number;
  chunkStart: Date;
  herd?: HerdSpec;
  options?: Partial<TrackerOptions>;
  /** The stream's tracks after its previous chunk; without it, known horses seen just before are carried over from the registry. */
  state?: TrackerState | null;
  /** This chunk's sequence number: a state that does not end at sequence − 1 resets motion (appearance is kept). */
  sequence?: number;
  /**
   * Optional monotonic clock (ms) used only to measure the registry decisions, so the caller can
   * report the registry's overhead. It never influences results.
   */
  clock?: () => number;
}

export interface ChunkTracker {
  update(frame: FramePerception): FrameUpdate;
  finish(): ChunkTrackingResult;
}

type Phase = 'tentative' | 'tracked' | 'lost';

interface Track {
  key: number;
  phase: Phase;
  kf: BoxKalman;
  /** The Kalman box predicted for the current frame (computed once per frame). */
  predicted: Box;
  hits: number;
  lostFrames: number;
  confirmed: boolean;
  /** Own bank until the track has a horse, then the horse's bank (the same object). */
  bank: FeatureBank | null;
  /**
   * Running appearance (EMA, unit) of every high-score detection of this track, clean or not,
   * for frame-to-frame association (as BoT-SORT's smoothed feature); banks stay clean-only.
   */
  appearance: Float32Array | null;
  horse: HorseState | null;
  /** Observations and confident vectors held until the track has a horse. */
  pendingBoxes: TrackedBox[];
  pendingVectors: Float32Array[];
  bestQuality: number;
  /** Timestamp (s) of the track's first observation. */
  firstSeenS: number;
  /** Clean (confident, unoccluded, clear of the frame edges) observations so far. */
  cleanViews: number;
  /** Confident observations mostly in view (less than half hidden by another detection): a whole horse, not a piece. */
  visibleViews: number;
  /** Its latest observation was a clean view. */
  cleanNow: boolean;
  /**
   * Running agreement (EMA of cosine) of the track's confident views with its running
   * appearance: how far its appearance can be trusted. NaN before the second view.
   */
  selfSimilarity: number;
  /** Running box width and height (EMA) of the track's confident unoccluded views; 0 before the first. */
  fullW: number;
  fullH: number;
  /** Its boxes were reported as provisional in an earlier chunk. */
  provisional: boolean;
  /** Frames in which each horse was seen beside this track; from CO_VISIBLE_MIN_FRAMES on, it is not that horse. */
  coVisibleHorses: Map<string, number>;
  /** The same for unidentified tracks: whichever horse they become, this track is not. */
  coVisibleTracks: Map<number, number>;
}

interface FrameViews {
  /** Clean views: confident, unoccluded and clear of the frame's edges; they teach feature banks. */
  confident: Uint8Array;
  /**
   * Confident and unoccluded, frame edges allowed: the horse's whole visible extent, which is what
   * a box reports (a horse cut off by the frame is reported clipped), so it sizes the track.
   */
  unoccluded: Uint8Array;
  occlusion: Float64Array;
  /** Index of the detection covering the most of each detection; −1 for none. */
  occluder: Int32Array;
  /** The share covered by the second most covering detection (its occlusion but for the occluder). */
  secondOcclusion: Float64Array;
}

interface HorseState {
  id: string;
  trackingId: number;
  color: string;
  name: string | null;
  status: HorseStatus | null;
  knownIndex: number;
  inHerd: boolean;
  bank: FeatureBank;
  track: Track | null;
  detections: number;
  confidenceSum: number;
  frames: TrackedBox[];
  /** Position in `frames` of each frame index's box. */
  frameSlot: Map<number, number>;
  thumbnailTrackKey: number | null;
  thumbnailQuality: number;
}

/**
 * Frames two tracks must be seen side by side before they count as different horses: the two
 * pieces of one horse split by the detector for a frame or two are not.
 */
const CO_VISIBLE_MIN_FRAMES = 5;

function seenBeside(track: Track, horseId: string): boolean {
  return (track.coVisibleHorses.get(horseId) ?? 0) >= CO_VISIBLE_MIN_FRAMES;
}

/** How far below trustedAppearanceSimilarity one view's agreement must fall to drop a track's cannot-link evidence. */
const CO_VISIBLE_RESET_MARGIN = 0.1;
/** Two detections overlapping at least this much may be one horse: no evidence of two. */
const CO_VISIBLE_MAX_IOU = 0.5;
/** A detection with at least this share of its box inside another's shows a piece of its horse, not all of it. */
const MOSTLY_HIDDEN = 0.8;
/** Confident vectors held per unidentified track; the oldest go first. */
const MAX_PENDING_VECTORS = 16;
/** Weight of the old value in a track's running appearance agreement. */
const SELF_SIMILARITY_MOMENTUM = 0.8;
/** Weight of the old value in a track's running unoccluded box size. */
const FULL_SIZE_MOMENTUM = 0.8;

export function createChunkTracker(init: ChunkTrackerInit): ChunkTracker {
  return new ChunkTrackerImpl(init);
}

class ChunkTrackerImpl implements ChunkTracker {
  private readonly options: TrackerOptions;
  private readonly known: readonly KnownHorse[];
  private readonly chunkStartMs: number;
  private readonly herd: HerdSpec | null;
  private nextTrackingId: number;
  private nextTrackKey = 1;
  private tracks: Track[] = [];
  /** Horses handled in this chunk (known horses materialised, and new ones), in creation order. */
  private readonly horses: HorseState[] = [];
  private readonly horseByKnownIndex = new Map<number, HorseState>();
  private readonly officialKnown: Uint8Array;
  private gallery: HorseGallery | null = null;
  private similarityScratch: Float64Array | null = null;
  private dim = -1;
  private finished = false;
  private readonly clock: (() => number) | null;
  private registryMatchMs = 0;
  /** Per-detection occlusion analysis of the current frame (reused buffers, grown on demand). */
  private views: FrameViews = frameViews(16);
  /** Timestamp (s) of the latest frame. */
  private lastTimestampS = 0;
  private readonly sequence: number;
  private readonly identified: IdentifiedTrack[] = [];

  constructor(init: ChunkTrackerInit) {
    this.options = resolveTrackerOptions(init.options);
    if (!Array.isArray(init.known)) invalid('known horses must be an array');
    if (!(init.chunkStart instanceof Date) || Number.isNaN(init.chunkStart.getTime())) invalid('chunkStart must be a valid Date');
    if (!Number.isInteger(init.nextTrackingId) || init.nextTrackingId < 1) invalid(`nextTrackingId must be a positive integer, got ${init.nextTrackingId}`);
    this.known = init.known;
    this.clock = init.clock ?? null;
    this.chunkStartMs = init.chunkStart.getTime();
    // Tracking numbers are never reused: continue after the largest known one whatever we are told.
    let maxKnown = 0;
    for (const horse of init.known) maxKnown = Math.max(maxKnown, horse.trackingId);
    this.nextTrackingId = Math.max(init.nextTrackingId, maxKnown + 1);

    this.herd = init.herd ?? null;
    this.officialKnown = new Uint8Array(init.known.length);
    if (this.herd !== null) {
      if (!Number.isInteger(this.herd.expectedCount) || this.herd.expectedCount < 1) invalid(`herd.expectedCount must be a positive integer, got ${this.herd.expectedCount}`);
      if (!Array.isArray(this.herd.officialIds)) invalid('herd.officialIds must be an array of horse IDs');
      const official = new Set(this.herd.officialIds);
      init.known.forEach((horse, index) => {
        if (official.size === 0 || official.has(horse.id)) this.officialKnown[index] = 1;
      });
    }
    this.sequence = init.sequence ?? (init.state?.sequence ?? 0) + 1;
    if (init.state === undefined || init.state === null || !this.options.continuousTracks) this.seedCarryOverTracks();
    else this.restoreState(init.state);
  }

  update(frame: FramePerception): FrameUpdate {
    if (this.finished) invalid('update() called after finish()');
    const embeddings = this.validateFrame(frame);
    this.lastTimestampS = frame.timestampS;
    const options = this.options;
    const detections = frame.detections;
    const n = detections.length;
    const assignments: DetectionAssignment[] = detections.map(() => ({ trackKey: null, horseId: null, bestThumbnailCandidate: false }));

    for (const track of this.tracks) {
      track.kf.predict();
      track.predicted = track.kf.box();
    }

    const views = this.analyseFrame(frame);
    const high: number[] = [];
    const low: number[] = [];
    for (let d = 0; d < n; d += 1) {
      const score = detections[d]!.score;
      if (score >= options.highScore) high.push(d);
      else if (score >= options.lowScore) low.push(d);
    }

    const { pairs, matchedTrack, matchedDetection } = matchDetections(this.tracks, frame.detections, embeddings, high, low, this.options);
    for (const { track, detection, wasLost } of pairs) {
      assignments[detection] = this.applyMatch(track, frame, detection, embeddings[detection]!, views, wasLost);
    }
    this.ageUnmatchedTracks(matchedTrack);

    // New tentative tracks from unmatched confident-enough detections.
    const seen = pairs.map((pair) => ({ track: pair.track, detection: pair.detection }));
    for (const d of high) {
      if (matchedDetection[d] === 1 || detections[d]!.score < options.newTrackScore) continue;
      const track = this.startTrack(detections[d]!.box, frame.timestampS);
      seen.push({ track, detection: d });
      assignments[d] = this.observe(track, frame, d, embeddings[d]!, views);
      if (options.confirmHits <= 1) {
        track.confirmed = true;
        track.phase = 'tracked';
      }
    }

    this.recordCoVisibility(
      seen.filter(({ detection }) => detections[detection]!.score >= options.highScore),
      frame,
      views,
    );
    if (this.clock === null) this.identifyConfirmedTracks();
    else {
      const started = this.clock();
      this.identifyConfirmedTracks();
      this.registryMatchMs += this.clock() - started;
    }
    const horseOfTrack = new Map<number, string | null>();
    for (const track of this.tracks) horseOfTrack.set(track.key, track.horse?.id ?? null);
    for (const assignment of assignments) {
      if (assignment.trackKey !== null) assignment.horseId = horseOfTrack.get(assignment.trackKey) ?? null;
    }
    return { frameIndex: frame.frameIndex, assignments };
  }

  finish(): ChunkTrackingResult {
    this.finished = true;
    const horses: HorseChunkResult[] = [];
    for (const horse of this.horses) {
      if (horse.detections === 0 || horse.status === null) continue;
      const frames = [...horse.frames].sort((a, b) => a.frameIndex - b.frameIndex);
      const first = frames[0]!;
      const last = frames[frames.length - 1]!;
      horses.push({
        id: horse.id,
        trackingId: horse.trackingId,
        color: horse.color,
        name: horse.name,
        status: horse.status,
        detections: horse.detections,
        meanConfidence: horse.confidenceSum / horse.detections,
        firstSeen: new Date(this.chunkStartMs + first.timestampS * 1000),
        lastSeen: new Date(this.chunkStartMs + last.timestampS * 1000),
        features: cloneFeatureBank(horse.bank),
        lastBox: { ...last.box },
        thumbnailTrackKey: horse.thumbnailTrackKey,
        thumbnailQuality: horse.thumbnailQuality,
        frames,
      });
    }
    horses.sort((a, b) => a.trackingId - b.trackingId);
    // Without continuous tracks an undecided track ends with the chunk: it could never be joined to a horse later.
    const provisional = this.options.continuousTracks ? this.provisionalTracks() : [];
    return { horses, provisional, identified: this.identified, state: this.snapshot(), nextTrackingId: this.nextTrackingId, registryMatchMs: this.registryMatchMs };
  }

  /** Confirmed, still undecided tracks with boxes in this chunk: reported now, joined to their horse later. */
  private provisionalTracks(): ProvisionalTrackResult[] {
    const results: ProvisionalTrackResult[] = [];
    for (const track of this.tracks) {
      if (!track.confirmed || track.horse !== null || track.pendingBoxes.length === 0) continue;
      const frames = [...track.pendingBoxes].sort((a, b) => a.frameIndex - b.frameIndex);
      const first = frames[0]!;
      const last = frames[frames.length - 1]!;
      results.push({
        trackKey: track.key,
        detections: frames.length,
        meanConfidence: frames.reduce((sum, frame) => sum + frame.score, 0) / frames.length,
        firstSeen: new Date(this.chunkStartMs + first.timestampS * 1000),
        lastSeen: new Date(this.chunkStartMs + last.timestampS * 1000),
        lastBox: { ...last.box },
        frames,
      });
      track.provisional = true;
      track.pendingBoxes = [];
    }
    return results;
  }

  /** The live tracks as data, for the next chunk. */
  private snapshot(): TrackerState {
    const toMs = (seconds: number) => this.chunkStartMs + seconds * 1000;
    const liveKeys = new Set(this.tracks.map((track) => track.key));
    const tracks: TrackSnapshot[] = this.tracks.map((track) => ({
      key: track.key,
      phase: track.phase,
      kalman: track.kf.snapshot(),
      hits: track.hits,
      lostFrames: track.lostFrames,
      confirmed: track.confirmed,
      horseId: track.horse?.id ?? null,
      bank: track.horse === null ? track.bank : null,
      appearance: track.appearance,
      firstSeenMs: toMs(track.firstSeenS),
      cleanViews: track.cleanViews,
      visibleViews: track.visibleViews,
      selfSimilarity: track.selfSimilarity,
      fullW: track.fullW,
      fullH: track.fullH,
      provisional: track.provisional,
      coVisibleHorses: [...track.coVisibleHorses].slice(-STATE_CO_VISIBLE_HORSES),
      coVisibleTracks: [...track.coVisibleTracks].filter(([key]) => liveKeys.has(key)),
    }));
    return { version: TRACKER_STATE_VERSION, sequence: this.sequence, lastFrameMs: toMs(this.lastTimestampS), nextTrackKey: this.nextTrackKey, tracks };
  }

  /**
   * Resumes the previous chunk's tracks. When this chunk does not follow the state's directly
   * (a gap in the sequence, or in time beyond continueWithinS), motion is reset — every track
   * waits as lost at its last box, to be re-found — but appearance and evidence are kept.
   */
  private restoreState(state: TrackerState): void {
    const gapMs = this.chunkStartMs - state.lastFrameMs;
    const continuous = this.sequence === state.sequence + 1 && gapMs >= -1000 && gapMs <= this.options.continueWithinS * 1000;
    const knownIndex = new Map(this.known.map((horse, index) => [horse.id, index]));
    this.nextTrackKey = Math.max(this.nextTrackKey, state.nextTrackKey);
    for (const snapshot of state.tracks) {
      if (!continuous && snapshot.phase === 'tentative') continue;
      const box = kalmanBox(snapshot.kalman);
      if (!validBox(box)) continue;
      const index = snapshot.horseId === null ? undefined : knownIndex.get(snapshot.horseId);
      // A track of a horse the registry no longer has (merged away) starts over as undecided.
      const horse = index === undefined ? null : this.materialiseKnown(index);
      const kf = continuous ? BoxKalman.restore(snapshot.kalman, this.options.kalman) : new BoxKalman(box, this.options.kalman);
      const track: Track = {
        key: snapshot.key,
        phase: continuous ? snapshot.phase : 'lost',
        kf,
        predicted: kf.box(),
        hits: snapshot.hits,
        lostFrames: snapshot.lostFrames,
        confirmed: snapshot.confirmed,
        bank: horse?.bank ?? snapshot.bank,
        appearance: snapshot.appearance,
        horse,
        pendingBoxes: [],
        pendingVectors: horse === null && snapshot.bank !== null ? [...snapshot.bank.exemplars] : [],
        bestQuality: Number.NEGATIVE_INFINITY,
        firstSeenS: (snapshot.firstSeenMs - this.chunkStartMs) / 1000,
        cleanViews: snapshot.cleanViews,
        visibleViews: snapshot.visibleViews,
        cleanNow: false,
        selfSimilarity: snapshot.selfSimilarity,
        fullW: snapshot.fullW,
        fullH: snapshot.fullH,
        provisional: snapshot.provisional,
        coVisibleHorses: new Map(snapshot.coVisibleHorses),
        coVisibleTracks: new Map(snapshot.coVisibleTracks),
      };
      if (horse !== null) horse.track = track;
      this.tracks.push(track);
    }
  }

  /**
   * Two confident detections of one frame that are not one box (IoU below CO_VISIBLE_MAX_IOU;
   * NMS already merged duplicates) are two horses — unless either is mostly hidden behind a third
   * detection: the pieces of one horse on both sides of a horse in front are two boxes of one
   * horse. Each track remembers the other (and its horse).
   */
  private recordCoVisibility(seen: { track: Track; detection: number }[], frame: FramePerception, views: FrameViews): void {
    const boxes = frame.detections.map((detection) => detection.box);
    // The frame's occlusion analysis already knows how much of each box its two largest occluders hide.
    const hiddenBehindOther = (d: number, partner: number): boolean =>
      (views.occluder[d] === partner ? views.secondOcclusion[d]! : views.occlusion[d]!) >= MOSTLY_HIDDEN;
    for (const a of seen) {
      for (const b of seen) {
        if (a === b || iou(boxes[a.detection]!, boxes[b.detection]!) >= CO_VISIBLE_MAX_IOU) continue;
        if (hiddenBehindOther(a.detection, b.detection) || hiddenBehindOther(b.detection, a.detection)) continue;
        const { track } = a;
        const other = b.track;
        if (other.horse !== null) track.coVisibleHorses.set(other.horse.id, (track.coVisibleHorses.get(other.horse.id) ?? 0) + 1);
        else track.coVisibleTracks.set(other.key, (track.coVisibleTracks.get(other.key) ?? 0) + 1);
      }
    }
  }

  private applyMatch(track: Track, frame: FramePerception, d: number, embedding: Float32Array, views: FrameViews, wasLost: boolean): DetectionAssignment {
    const box = frame.detections[d]!.box;
    if (wasLost) {
      // Re-found after a gap: restart the motion model at the detection instead of jumping.
      track.kf = new BoxKalman(box, this.options.kalman);
    } else {
      track.kf.update(box);
    }
    track.phase = track.confirmed ? 'tracked' : 'tentative';
    track.lostFrames = 0;
    track.hits += 1;
    // Only a carry-over track's horse can still have no status here.
    if (track.horse !== null && track.horse.status === null) track.horse.status = 'continued';
    const assignment = this.observe(track, frame, d, embedding, views);
    if (!track.confirmed && track.hits >= this.options.confirmHits) {
      track.confirmed = true;
      track.phase = 'tracked';
    }
    return assignment;
  }

  /** Unmatched tracks: tentative ones die, tracked ones get lost, lost ones age and end. */
  private ageUnmatchedTracks(matched: Set<Track>): void {
    const survivors: Track[] = [];
    for (const track of this.tracks) {
      if (!matched.has(track)) {
        if (track.phase === 'tentative') continue;
        track.phase = 'lost';
        track.lostFrames += 1;
        if (track.lostFrames > this.options.maxLostFrames) {
          if (track.horse !== null && track.horse.track === track) track.horse.track = null;
          continue;
        }
      }
      survivors.push(track);
    }
    this.tracks = survivors;
  }

  // ── observations ───────────────────────────────────────────────────────────────────────────

  /** Records one matched detection on a track (and its horse, if it has one). */
  private observe(track: Track, frame: FramePerception, d: number, embedding: Float32Array, views: FrameViews): DetectionAssignment {
    const detection = frame.detections[d]!;
    const confident = views.confident[d] === 1;
    const reportedBox = this.reportedBox(track, frame, d, views);
    if (views.unoccluded[d] === 1) {
      const keep = track.fullW === 0 ? 0 : FULL_SIZE_MOMENTUM;
      track.fullW = keep * track.fullW + (1 - keep) * detection.box.w;
      track.fullH = keep * track.fullH + (1 - keep) * detection.box.h;
    }
    if (detection.score >= this.options.highScore) this.updateAppearance(track, embedding);
    // A view mostly in view counts up, a mostly hidden one down: a piece of a hidden horse stays near 0.
    if (views.occlusion[d]! < MOSTLY_HIDDEN) {
      if (detection.score >= this.options.bankMinScore) track.visibleViews += 1;
    } else track.visibleViews = Math.max(0, track.visibleViews - 1);
    track.cleanNow = confident;
    if (confident) {
      track.cleanViews += 1;
      if (track.bank === null) track.bank = createFeatureBank(embedding);
      else updateFeatureBank(track.bank, embedding, this.options.featureBank);
      if (track.horse === null) {
        track.pendingVectors.push(embedding);
        if (track.pendingVectors.length > MAX_PENDING_VECTORS) track.pendingVectors.shift();
      }
    }
    const quality = detection.box.w * detection.box.h * detection.score;
    const best = quality > track.bestQuality;
    if (best) track.bestQuality = quality;
    if (reportedBox !== null) {
      const observation: TrackedBox = { frameIndex: frame.frameIndex, timestampS: frame.timestampS, box: { ...reportedBox }, score: detection.score };
      if (track.horse !== null) this.attribute(track.horse, track, observation);
      else track.pendingBoxes.push(observation);
    }
    return { trackKey: track.key, horseId: track.horse?.id ?? null, bestThumbnailCandidate: best };
  }

  private updateAppearance(track: Track, embedding: Float32Array): void {
    if (track.appearance === null || track.appearance.length !== embedding.length) {
      track.appearance = Float32Array.from(embedding);
      return;
    }
    const agreement = dot(track.appearance, embedding);
    // A look far from the track's own: the track may have moved onto another horse, so what it
    // was seen beside no longer tells which horse it is not.
    if (track.horse === null && agreement < this.options.trustedAppearanceSimilarity - CO_VISIBLE_RESET_MARGIN) {
      track.coVisibleHorses.clear();
      track.coVisibleTracks.clear();
    }
    track.selfSimilarity = Number.isNaN(track.selfSimilarity) ? agreement : SELF_SIMILARITY_MOMENTUM * track.selfSimilarity + (1 - SELF_SIMILARITY_MOMENTUM) * agreement;
    const keep = this.options.featureBank.momentum;
    for (let i = 0; i < embedding.length; i += 1) track.appearance[i] = keep * track.appearance[i]! + (1 - keep) * embedding[i]!;
    normalizeInPlace(track.appearance);
  }

  private attribute(horse: HorseState, track: Track, observation: TrackedBox): void {
    // Two tracks of one horse (e.g. pieces of it, one identified late) can both hold a frame:
    // the horse keeps one box per frame, the more confident one.
    const existing = horse.frameSlot.get(observation.frameIndex);
    if (existing === undefined) {
      horse.frameSlot.set(observation.frameIndex, horse.frames.length);
      horse.frames.push(observation);
      horse.detections += 1;
      horse.confidenceSum += observation.score;
    } else if (observation.score > horse.frames[existing]!.score) {
      horse.confidenceSum += observation.score - horse.frames[existing]!.score;
      horse.frames[existing] = observation;
    }
    if (track.bestQuality > horse.thumbnailQuality) {
      horse.thumbnailQuality = track.bestQuality;
      horse.thumbnailTrackKey = track.key;
    }
  }

  /**
   * Per detection of the frame: how much of it lies inside another detection's box (its
   * occlusion), whether it shows the horse's visible extent (confident, not occluded) and whether
   * it may teach a feature bank (that, and clear of the frame's edges).
   */
  private analyseFrame(frame: FramePerception): FrameViews {
    const detections = frame.detections;
    const n = detections.length;
    if (this.views.confident.length < n) {
      const capacity = Math.max(n, 2 * this.views.confident.length);
      this.views = frameViews(capacity);
    }
    const { confident, unoccluded, occlusion, occluder, secondOcclusion } = this.views;
    for (let a = 0; a < n; a += 1) {
      let covered = 0;
      let second = 0;
      occluder[a] = -1;
      for (let b = 0; b < n; b += 1) {
        if (a === b) continue;
        const share = coverage(detections[a]!.box, detections[b]!.box, this.options.occlusionMargin);
        if (share > covered) {
          second = covered;
          covered = share;
          occluder[a] = b;
        } else if (share > second) second = share;
      }
      occlusion[a] = covered;
      secondOcclusion[a] = second;
      unoccluded[a] = detections[a]!.score >= this.options.bankMinScore && covered < this.options.bankMaxOverlap ? 1 : 0;
      // A horse cut off by the frame (entering or leaving) shows only part of itself: no clean view.
      confident[a] = unoccluded[a] === 1 && !this.atFrameEdge(detections[a]!.box, frame) ? 1 : 0;
    }
    return this.views;
  }

  /** Whether `box` reaches the frame's edge (within frameEdgeMargin): the horse may be cut off there. */
  private atFrameEdge(box: Box, frame: FramePerception): boolean {
    const margin = this.options.frameEdgeMargin;
    if (frame.width > 0 && (box.x <= margin * frame.width || box.x + box.w >= (1 - margin) * frame.width)) return true;
    return frame.height > 0 && (box.y <= margin * frame.height || box.y + box.h >= (1 - margin) * frame.height);
  }

  /**
   * The box reported for a track's detection: the detection itself, unless it is occluded and
   * small or weak for its track — only the visible piece of the horse, which still steers the
   * track. Then the horse's completed extent (completeOccluded), or nothing.
   */
  private reportedBox(track: Track, frame: FramePerception, d: number, views: FrameViews): Box | null {
    const detection = frame.detections[d]!;
    // Without a clean view yet, the track knows no better extent than the detection.
    if (views.occlusion[d]! < this.options.bankMaxOverlap || track.fullW === 0) return detection.box;
    const sizeable = boxArea(detection.box) >= this.options.occludedReportMinAreaRatio * track.fullW * track.fullH;
    if (sizeable && detection.score >= this.options.occludedReportMinScore) return detection.box;
    const occluder = views.occluder[d]!;
    if (!this.options.completeOccluded || occluder < 0) return null;
    return completedBox(detection.box, frame.detections[occluder]!.box, track.fullW, track.fullH, frame.width, frame.height);
  }

  // ── identities ─────────────────────────────────────────────────────────────────────────────

  private identifyConfirmedTracks(): void {
    const waiting = this.tracks.filter((track) => track.confirmed && track.horse === null && track.phase === 'tracked');
    if (waiting.length === 0) return;
    const herdComplete = this.herd !== null && this.herdSize() >= this.herd.expectedCount;
    const queries = waiting.map((track) => this.queryVector(track));

    const visible = new Set<HorseState>();
    for (const track of this.tracks) if (track.phase === 'tracked' && track.horse !== null) visible.add(track.horse);
    const liveCandidates = this.horses.filter((horse) => !visible.has(horse) && (!herdComplete || horse.inHerd));
    const gallery = this.ensureGallery(queries);
    let galleryEligible: Uint8Array | null = null;
    if (gallery !== null) {
      galleryEligible = new Uint8Array(gallery.count);
      for (let k = 0; k < gallery.count; k += 1) {
        if (this.horseByKnownIndex.has(k)) continue;
        if (herdComplete && this.officialKnown[k] !== 1) continue;
        galleryEligible[k] = 1;
      }
    }
    const usable = queries.map((query) => query !== null);
    const matches = matchIdentities(
      {
        queries: queries.map((query) => query ?? new Float32Array(0)),
        gallery,
        galleryEligible,
        liveBanks: liveCandidates.map((horse) => horse.bank),
        threshold: herdComplete ? Number.NEGATIVE_INFINITY : this.options.reidSimilarity,
        allowed: (query, source, index) => {
          const id = source === 'known' ? this.known[index]!.id : liveCandidates[index]!.id;
          return !seenBeside(waiting[query]!, id);
        },
      },
      this.similarityScratch,
    );

    waiting.forEach((track, index) => {
      const match = usable[index] ? matches[index] : null;
      if (match !== null && match !== undefined) {
        const horse = match.source === 'known' ? this.materialiseKnown(match.index) : liveCandidates[match.index]!;
        if (horse.status === null) horse.status = 'reactivated';
        this.bind(track, horse);
        return;
      }
      // Nothing matched. In a complete herd the track waits for a herd horse to become free.
      if (this.herd !== null && this.herdSize() >= this.herd.expectedCount) return;
      // A new horse needs an established track: seen long enough and in clean views, so the
      // visible piece of a partly hidden horse, or a short-lived false track, never becomes one.
      if (!this.establishedForNewHorse(track)) return;
      // A known horse that looks like this track but seems visible elsewhere right now may be
      // on a wrong track (a lost track re-found on another horse): wait a while before a new horse.
      const query = queries[index];
      if (query !== null && query !== undefined && this.resemblesVisibleHorse(track, query, visible)) return;
      this.bind(track, this.createHorse(track));
    });
  }

  private resemblesVisibleHorse(track: Track, query: Float32Array, visible: Set<HorseState>): boolean {
    if (this.lastTimestampS - track.firstSeenS >= 2 * this.options.newHorseMaxWaitS) return false;
    for (const horse of visible) {
      if (horse.track === track || seenBeside(track, horse.id)) continue;
      if (bankSimilarity(horse.bank, query) >= this.options.reidSimilarity) return true;
    }
    return false;
  }

  private establishedForNewHorse(track: Track): boolean {
    const trackedS = this.lastTimestampS - track.firstSeenS;
    if (trackedS < this.options.newHorseMinTrackS) return false;
    // A horse that is never seen unoccluded (one that always grazes beside another) still
    // becomes a horse once its track has lasted long enough to be more than a passing piece, and
    // was mostly in view now and then (the piece of a horse hidden behind another never is).
    // A track that is clean right now (a horse stepping out from behind another) gets its clean
    // views within a few frames: it is decided on them, not on the appearance of its hidden phase.
    if (track.cleanViews >= this.options.newHorseMinCleanViews) return true;
    if (trackedS < this.options.newHorseMaxWaitS || track.visibleViews < this.options.newHorseMinCleanViews || track.cleanNow) return false;
    // Nor while its look is changing (a piece growing into the whole horse): decided once its views agree again.
    return Number.isNaN(track.selfSimilarity) || track.selfSimilarity >= this.options.trustedAppearanceSimilarity;
  }

  /**
   * The track's appearance for the registry decision (unit vector): its clean-view bank mean
   * once it has enough clean views to trust it, else its running appearance (every confident
   * view, so one odd clean view cannot decide alone); null with neither.
   */
  private queryVector(track: Track): Float32Array | null {
    const trustBank = track.bank !== null && (track.cleanViews >= this.options.newHorseMinCleanViews || track.appearance === null);
    const source = trustBank ? track.bank!.mean : track.appearance;
    return source === null ? null : normalizeInPlace(Float32Array.from(source));
  }

  private ensureGallery(queries: (Float32Array | null)[]): HorseGallery | null {
    if (this.gallery !== null) return this.gallery;
    const dim = queries.find((query) => query !== null)?.length ?? this.dim;
    if (dim <= 0 || this.known.length === 0) return null;
    this.gallery = new HorseGallery(
      this.known.map((horse) => horse.features),
      dim,
    );
    this.similarityScratch = new Float64Array(this.gallery.count);
    return this.gallery;
  }

  /** Gives `track` to `horse`: the horse's previous (lost) track ends, held observations flow in. */
  private bind(track: Track, horse: HorseState): void {
    const previous = horse.track;
    if (previous !== null && previous !== track) this.tracks = this.tracks.filter((candidate) => candidate !== previous);
    horse.track = track;
    track.horse = horse;
    if (track.provisional) this.identified.push({ trackKey: track.key, horseId: horse.id, status: horse.status ?? 'reactivated' });
    for (const other of this.tracks) {
      const frames = other.coVisibleTracks.get(track.key);
      if (frames === undefined) continue;
      other.coVisibleTracks.delete(track.key);
      other.coVisibleHorses.set(horse.id, (other.coVisibleHorses.get(horse.id) ?? 0) + frames);
    }
    if (track.bank !== horse.bank) {
      for (const vector of track.pendingVectors) updateFeatureBank(horse.bank, vector, this.options.featureBank);
      track.bank = horse.bank;
    }
    track.pendingVectors = [];
    for (const observation of track.pendingBoxes) this.attribute(horse, track, observation);
    track.pendingBoxes = [];
  }

  private materialiseKnown(index: number): HorseState {
    const existing = this.horseByKnownIndex.get(index);
    if (existing !== undefined) return existing;
    const known = this.known[index]!;
    const horse: HorseState = {
      id: known.id,
      trackingId: known.trackingId,
      color: known.color,
      name: known.name,
      status: null,
      knownIndex: index,
      inHerd: this.officialKnown[index] === 1,
      bank: cloneFeatureBank(known.features),
      track: null,
      detections: 0,
      confidenceSum: 0,
      frames: [],
      frameSlot: new Map(),
      thumbnailTrackKey: null,
      thumbnailQuality: Number.NEGATIVE_INFINITY,
    };
    this.horseByKnownIndex.set(index, horse);
    this.horses.push(horse);
    return horse;
  }

  private createHorse(track: Track): HorseState {
    const trackingId = this.nextTrackingId;
    this.nextTrackingId += 1;
    const horse: HorseState = {
      id: horseIdFor(trackingId),
      trackingId,
      color: colorFor(trackingId),
      name: null,
      status: 'new',
      knownIndex: -1,
      inHerd: true,
      // A horse first seen only in crowded views has no clean-view bank yet; its bank starts from
      // the track's running appearance (the only view there is) and clean views refine it later.
      bank: track.bank ?? createFeatureBank(track.appearance ?? new Float32Array(Math.max(1, this.dim))),
      track: null,
      detections: 0,
      confidenceSum: 0,
      frames: [],
      frameSlot: new Map(),
      thumbnailTrackKey: null,
      thumbnailQuality: Number.NEGATIVE_INFINITY,
    };
    this.horses.push(horse);
    return horse;
  }

  private herdSize(): number {
    let size = 0;
    for (let k = 0; k < this.officialKnown.length; k += 1) size += this.officialKnown[k]!;
    for (const horse of this.horses) if (horse.knownIndex === -1) size += 1;
    return size;
  }

  // ── tracks ─────────────────────────────────────────────────────────────────────────────────

  private startTrack(box: Box, timestampS: number): Track {
    const track: Track = {
      key: this.nextTrackKey,
      phase: 'tentative',
      kf: new BoxKalman(box, this.options.kalman),
      predicted: { ...box },
      hits: 1,
      lostFrames: 0,
      confirmed: false,
      bank: null,
      appearance: null,
      horse: null,
      pendingBoxes: [],
      pendingVectors: [],
      bestQuality: Number.NEGATIVE_INFINITY,
      firstSeenS: timestampS,
      cleanViews: 0,
      visibleViews: 0,
      cleanNow: false,
      selfSimilarity: Number.NaN,
      fullW: 0,
      fullH: 0,
      provisional: false,
      coVisibleHorses: new Map(),
      coVisibleTracks: new Map(),
    };
    this.nextTrackKey += 1;
    this.tracks.push(track);
    return track;
  }

  /** Known horses seen just before this chunk enter it as lost tracks at their last box. */
  private seedCarryOverTracks(): void {
    const windowMs = this.options.continueWithinS * 1000;
    this.known.forEach((known, index) => {
      if (known.lastBox === null || !(known.lastSeen instanceof Date)) return;
      const gapMs = this.chunkStartMs - known.lastSeen.getTime();
      if (!(gapMs <= windowMs) || !validBox(known.lastBox)) return;
      const horse = this.materialiseKnown(index);
      const track = this.startTrack(known.lastBox, 0);
      track.phase = 'lost';
      track.confirmed = true;
      track.hits = this.options.confirmHits;
      track.horse = horse;
      track.bank = horse.bank;
      track.appearance = Float32Array.from(horse.bank.mean);
      // The last reported box is the horse's full extent (completed when it was occluded).
      track.fullW = known.lastBox.w;
      track.fullH = known.lastBox.h;
      horse.track = track;
    });
  }

  private validateFrame(frame: FramePerception): Float32Array[] {
    if (frame === null || typeof frame !== 'object' || !Array.isArray(frame.detections) || !Array.isArray(frame.embeddings)) {
      invalid('frame must have detections and embeddings arrays');
    }
    if (frame.detections.length !== frame.embeddings.length) {
      invalid(`frame ${frame.frameIndex}: ${frame.detections.length} detections but ${frame.embeddings.length} embeddings`);
    }
    if (!Number.isFinite(frame.timestampS)) invalid(`frame ${frame.frameIndex}: timestampS must be finite`);
    const unit: Float32Array[] = [];
    for (let d = 0; d < frame.detections.length; d += 1) {
      const detection = frame.detections[d]!;
      if (!validBox(detection.box) || !Number.isFinite(detection.score)) {
        invalid(`frame ${frame.frameIndex}: detection ${d} has an invalid box or score`);
      }
      const embedding = frame.embeddings[d]!;
      if (!(embedding instanceof Float32Array) || embedding.length === 0) invalid(`frame ${frame.frameIndex}: embedding ${d} must be a non-empty Float32Array`);
      if (this.dim === -1) this.dim = embedding.length;
      else if (embedding.length !== this.dim) invalid(`frame ${frame.frameIndex}: embedding ${d} has dimension ${embedding.length}, expected ${this.dim}`);
      const norm = Math.sqrt(dot(embedding, embedding));
      unit.push(Math.abs(norm - 1) > 1e-3 ? normalizeInPlace(Float32Array.from(embedding)) : embedding);
    }
    return unit;
  }
}

/**
 * The full extent of a partly hidden horse from its visible piece: along each axis where the
 * piece is shorter than the horse's unoccluded size, the edge away from the occluder stays and
 * the box extends behind the occluder to the full size (clipped to the frame).
 */
function completedBox(piece: Box, occluder: Box, fullW: number, fullH: number, frameW: number, frameH: number): Box {
  let { x, y, w, h } = piece;
  if (w < fullW) {
    if (occluder.x + occluder.w / 2 < x + w / 2) x = x + w - fullW;
    w = fullW;
  }
  if (h < fullH) {
    if (occluder.y + occluder.h / 2 < y + h / 2) y = y + h - fullH;
    h = fullH;
  }
  const x0 = Math.max(0, x);
  const y0 = Math.max(0, y);
  const x1 = frameW > 0 ? Math.min(frameW, x + w) : x + w;
  const y1 = frameH > 0 ? Math.min(frameH, y + h) : y + h;
  return { x: x0, y: y0, w: Math.max(1, x1 - x0), h: Math.max(1, y1 - y0) };
}

function validBox(box: Box): boolean {
  return (
    box !== null &&
    typeof box === 'object' &&
    Number.isFinite(box.x) &&
    Number.isFinite(box.y) &&
    Number.isFinite(box.w) &&
    Number.isFinite(box.h) &&
    box.w > 0 &&
    box.h > 0 &&
    boxArea(box) > 0
  );
}

function invalid(message: string): never {
  throw new PaddockError('TRACKING_INVALID', message);
}

function frameViews(capacity: number): FrameViews {
  return {
    confident: new Uint8Array(capacity),
    unoccluded: new Uint8Array(capacity),
    occlusion: new Float64Array(capacity),
    occluder: new Int32Array(capacity),
    secondOcclusion: new Float64Array(capacity),
  };
}
