/**
 * The tracker's working records of one chunk (./tracker.ts): its tracks and the horses they are.
 * Mutable, owned by the tracker; the registry decision (./identify.ts) binds tracks to horses.
 */
import type { BoxKalman } from './kalman.ts';
import type { Box, FeatureBank, HorseStatus } from './types.ts';

export interface TrackedBox {
  frameIndex: number;
  timestampS: number;
  box: Box;
  score: number;
  /** Not a detection: the box of a frame the horse went unseen in, between two that saw it (./interpolate.ts). */
  interpolated?: true;
}

export type Phase = 'tentative' | 'tracked' | 'lost';

/** A track missing at most this many frames in a row is still where its prediction puts it: its horse is there, only missed. */
const RECENTLY_LOST_FRAMES = 3;

/** Whether the track's horse was seen within the last RECENTLY_LOST_FRAMES frames (a followed track always was). */
export function seenLately(track: Pick<Track, 'lostFrames'>): boolean {
  return track.lostFrames <= RECENTLY_LOST_FRAMES;
}

export interface Track {
  key: number;
  phase: Phase;
  kf: BoxKalman;
  /** The Kalman box predicted for the current frame (computed once per frame). */
  predicted: Box;
  hits: number;
  lostFrames: number;
  /** Its observations since the last one with an appearance vector (Infinity: none yet in this process). */
  embeddedAgo: number;
  confirmed: boolean;
  /** Own bank until the track has a horse, then the horse's bank (the same object). */
  bank: FeatureBank | null;
  /**
   * Running appearance (EMA, unit) of every high-score detection of this track, clean or not,
   * for frame-to-frame association (as BoT-SORT's smoothed feature); banks stay clean-only.
   */
  appearance: Float32Array | null;
  horse: HorseState | null;
  /** Its latest reported box, repeated for frames the detector skipped; kept in the tracker state (restored at frame index −1). */
  lastReported: TrackedBox | null;
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
  /**
   * The hidden horse this track is stepping out as, set when it was confirmed: a horse known only
   * from pieces (its track never had a clean view) whose lost track lay inside this track's box,
   * or a lost horse whose swallowing box (swallowedIn) holds most of this track's box.
   */
  emergedFrom: string | null;
  /**
   * While lost: the box of the detection that last swallowed this track's horse (the detector drew
   * one box over it and the horse it stood with: see noteSwallowedHorses), moved with the
   * camera. A new track confirmed mostly inside it is most likely this horse leaving the group.
   */
  swallowedIn: Box | null;
  /** Frames in which each horse was seen beside this track; from CO_VISIBLE_MIN_FRAMES on, it is not that horse. */
  coVisibleHorses: Map<string, number>;
  /** The same for unidentified tracks: whichever horse they become, this track is not. */
  coVisibleTracks: Map<number, number>;
}

export interface HorseState {
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

/** A horse of this chunk with its identity and bank, before any observation. */
export function horseState(identity: Pick<HorseState, 'id' | 'trackingId' | 'color' | 'name' | 'status' | 'knownIndex' | 'inHerd' | 'bank'>): HorseState {
  return { ...identity, track: null, detections: 0, confidenceSum: 0, frames: [], frameSlot: new Map(), thumbnailTrackKey: null, thumbnailQuality: Number.NEGATIVE_INFINITY };
}

/** Records one observation of `track` as its horse's (one box per frame), and the horse's best thumbnail candidate. */
export function attribute(horse: HorseState, track: Track, observation: TrackedBox): void {
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
