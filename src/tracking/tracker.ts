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
 * So is a small piece of a different shape that lies beside a horse in front, touching its box
 * rather than inside it: the part of a horse sticking out from behind another (see pieceBehind).
 * A box the detector merged over two horses (it swallowed another live track's unmatched
 * prediction) is no clean view either: see noteSwallowedHorses.
 *
 * Identity (the registry decision, from confirmation on): see ./identify.ts. The track's query
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
 *    not turning clean and with a stable look (twice as long when only ever seen in pieces: a
 *    horse standing behind another); until then it is asked again every frame and may
 *    still reactivate a known horse, and its boxes are held, then attributed to whichever horse it
 *    gets. Held boxes still held at the chunk's end are reported as a provisional track; the chunk
 *    that decides the track lists it as identified. The passing piece of a partly hidden horse
 *    or a short-lived false track thus never creates a horse.
 *  Candidates exclude horses the track was seen beside (cannot-link, recordCoVisibility) and
 *  horses in view (a horse whose track was missed for a frame or two still is: seenLately), and a new horse waits while a look-alike known horse seems visible elsewhere. A track that would be
 *  a new horse but was confirmed over the lost track of a horse known only from pieces (never a
 *  clean view: its look is no guide) is that horse stepping out whole; one confirmed mostly
 *  inside the box that swallowed a lost horse (the detector merged it with the horse it stood
 *  with) is that horse leaving the group (Track.emergedFrom).
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
import { matchDetections, SPOKEN_FOR_IOU, withinReach } from './association.ts';
import { cloneFeatureBank, createFeatureBank, dot, normalizeInPlace, updateFeatureBank } from './featureBank.ts';
import { boxArea, boxGap, coverage, iou, warpBox } from './geometry.ts';
import { Identities, type HerdSpec, type IdentifiedTrack } from './identify.ts';
import { fillGaps, type FrameTime } from './interpolate.ts';
import { BoxKalman } from './kalman.ts';
import { resolveTrackerOptions, type TrackerOptions } from './options.ts';
import { kalmanBox, STATE_CO_VISIBLE_HORSES, TRACKER_STATE_VERSION, type TrackerState, type TrackSnapshot } from './state.ts';
import { attribute, seenLately, type Track, type TrackedBox } from './track.ts';
import type { Box, CameraMotion, Detection, FeatureBank, FramePerception, HorseStatus, KnownHorse } from './types.ts';

export type { HerdSpec, IdentifiedTrack } from './identify.ts';
export type { TrackedBox } from './track.ts';

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
  /** Every attributed detection, in frame order, and interpolated boxes for short gaps between them (for MOT output). */
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
  /**
   * ReID on demand: 1 for each detection of the coming frame that needs an appearance vector.
   * Runs the frame's motion prediction (with its camera motion): update() for the same frame must follow.
   */
  embeddingsNeeded(frame: Pick<FramePerception, 'detections' | 'cameraMotion'>): Uint8Array;
  update(frame: FramePerception): FrameUpdate;
  /**
   * Motion gating: whether a frame may skip the detector when the scene did not change — only
   * while every track is followed in the latest frame with a box to repeat: nothing to confirm
   * (a tentative track needs detections in a row) or re-find. An undecided track may wait: it is
   * decided on the next detected frame, its held boxes with it.
   */
  mayHold(): boolean;
  /** A frame the detector skipped because nothing moved: each followed track keeps its latest box. */
  hold(frame: Pick<FramePerception, 'frameIndex' | 'timestampS'>): void;
  finish(): ChunkTrackingResult;
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

/** How far below trustedAppearanceSimilarity one view's agreement must fall to drop a track's cannot-link evidence. */
const CO_VISIBLE_RESET_MARGIN = 0.1;
/** Two detections overlapping at least this much may be one horse: no evidence of two. */
const CO_VISIBLE_MAX_IOU = 0.5;
/**
 * A frame in which two tracks' boxes lie more than a body length apart counts this many times
 * toward their cannot-link: the detector splits one horse into pieces side by side, never that
 * far apart (beach-herd, YOLO11n: a bay seen 4 frames beside a horse at the frame's edge took
 * that horse's ID when it left; 7 → 8 horses).
 */
const CO_VISIBLE_APART_WEIGHT = 2;
/** A detection with at least this share of its box inside another's shows a piece of its horse, not all of it. */
const MOSTLY_HIDDEN = 0.8;
/** Confident vectors held per unidentified track; the oldest go first. */
const MAX_PENDING_VECTORS = 16;
/** Weight of the old value in a track's running appearance agreement. */
const SELF_SIMILARITY_MOMENTUM = 0.8;
/** An interpolated box overlapping another horse's detected box this much is a guess in a crowd. */
const CROWDED_IOU = 0.5;
type FrameSize = Pick<FramePerception, 'width' | 'height'>;
/** Per owner's list of boxes: whether an interpolated box in a frame lands on someone else's. */
type CrowdedTest = (owner: readonly TrackedBox[]) => (frameIndex: number, box: Box) => boolean;
/** Weight of the old value in a track's running unoccluded box size. */
const FULL_SIZE_MOMENTUM = 0.8;
/** A small box that is a piece of its horse has an aspect ratio at least this factor from the horse's (either way). */
const PIECE_MIN_ASPECT_CHANGE = 1.25;
/** A new track holding a lost piece-only horse's predicted box, or lying inside a lost horse's swallowing box, at least this much is that horse stepping out. */
const EMERGED_MIN_COVERAGE = 0.5;
/** A detection holding at least this share of an unmatched live track's predicted box has swallowed that track's horse. */
const SWALLOWED_MIN_COVERAGE = 0.6;
/** A matched box at least this many times the area its horse was last reported at, holding another horse beside it, is drawn over both. */
const MERGED_MIN_AREA_RATIO = 1.25;
/** A horse beside another at the same distance has about its height; a lower box inside another is a piece of a horse behind it. */
const SIDE_BY_SIDE_MIN_HEIGHT_RATIO = 0.8;

export function createChunkTracker(init: ChunkTrackerInit): ChunkTracker {
  return new ChunkTrackerImpl(init);
}

class ChunkTrackerImpl implements ChunkTracker {
  private readonly options: TrackerOptions;
  private readonly known: readonly KnownHorse[];
  private readonly chunkStartMs: number;
  private nextTrackKey = 1;
  private tracks: Track[] = [];
  /** The registry decision and the horses of this chunk. */
  private readonly identities: Identities;
  private dim = -1;
  private finished = false;
  private readonly clock: (() => number) | null;
  private registryMatchMs = 0;
  /** Per-detection occlusion analysis of the current frame (reused buffers, grown on demand). */
  private views: FrameViews = frameViews(16);
  /** Timestamp (s) of the latest frame. */
  private lastTimestampS = 0;
  /** Every frame seen in this chunk, detected or held, in order (for interpolating gaps). */
  private readonly frameTimes: FrameTime[] = [];
  /** The latest frame's size (a stream's frames share one). */
  private frameSize: FrameSize = { width: 0, height: 0 };
  /** The coming frame's motion prediction is done (embeddingsNeeded ran before update). */
  private framePredicted = false;
  /** This frame's confirmed horses where they are (see placeHorses). */
  private readonly horsesInFrame: { key: number; box: Box }[] = [];
  private readonly sequence: number;

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
    const nextTrackingId = Math.max(init.nextTrackingId, maxKnown + 1);

    const herd = init.herd ?? null;
    if (herd !== null) {
      if (!Number.isInteger(herd.expectedCount) || herd.expectedCount < 1) invalid(`herd.expectedCount must be a positive integer, got ${herd.expectedCount}`);
      if (!Array.isArray(herd.officialIds)) invalid('herd.officialIds must be an array of horse IDs');
    }
    this.identities = new Identities(this.options, init.known, herd, nextTrackingId);
    this.sequence = init.sequence ?? (init.state?.sequence ?? 0) + 1;
    if (init.state === undefined || init.state === null || !this.options.continuousTracks) this.seedCarryOverTracks();
    else this.restoreState(init.state);
  }

  update(frame: FramePerception): FrameUpdate {
    if (this.finished) invalid('update() called after finish()');
    const embeddings = this.validateFrame(frame);
    this.lastTimestampS = frame.timestampS;
    this.frameSize = { width: frame.width, height: frame.height };
    this.frameTimes.push({ frameIndex: frame.frameIndex, timestampS: frame.timestampS });
    const options = this.options;
    const detections = frame.detections;
    const n = detections.length;
    const assignments: DetectionAssignment[] = detections.map(() => ({ trackKey: null, horseId: null, bestThumbnailCandidate: false }));
    this.predictFrame(frame.cameraMotion);
    this.framePredicted = false;

    const views = this.analyseFrame(frame);
    const high: number[] = [];
    const low: number[] = [];
    for (let d = 0; d < n; d += 1) {
      const score = detections[d]!.score;
      if (score >= options.highScore) high.push(d);
      else if (score >= options.lowScore) low.push(d);
    }

    const { pairs, matchedTrack, matchedDetection } = matchDetections(this.tracks, frame.detections, embeddings, high, low, this.options);
    this.placeHorses(pairs, matchedTrack, detections);
    this.noteSwallowedHorses(pairs, matchedTrack, detections, views);
    for (const { track, detection, wasLost } of pairs) {
      assignments[detection] = this.applyMatch(track, frame, detection, embeddings[detection] ?? null, views, wasLost);
    }
    this.ageUnmatchedTracks(matchedTrack);

    // New tentative tracks from unmatched confident-enough detections.
    const seen = pairs.map((pair) => ({ track: pair.track, detection: pair.detection }));
    for (const d of high) {
      if (matchedDetection[d] === 1 || detections[d]!.score < options.newTrackScore) continue;
      const track = this.startTrack(detections[d]!.box, frame.timestampS);
      seen.push({ track, detection: d });
      assignments[d] = this.observe(track, frame, d, embeddings[d] ?? null, views);
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
    if (this.clock === null) this.identities.identify(this.tracks, this.lastTimestampS, this.dim);
    else {
      const started = this.clock();
      this.identities.identify(this.tracks, this.lastTimestampS, this.dim);
      this.registryMatchMs += this.clock() - started;
    }
    const horseOfTrack = new Map<number, string | null>();
    for (const track of this.tracks) horseOfTrack.set(track.key, track.horse?.id ?? null);
    for (const assignment of assignments) {
      if (assignment.trackKey !== null) assignment.horseId = horseOfTrack.get(assignment.trackKey) ?? null;
    }
    return { frameIndex: frame.frameIndex, assignments };
  }

  mayHold(): boolean {
    return this.tracks.every((track) => track.phase === 'tracked' && track.lastReported !== null);
  }

  hold(frame: Pick<FramePerception, 'frameIndex' | 'timestampS'>): void {
    if (this.finished) invalid('hold() called after finish()');
    if (this.framePredicted) invalid('hold() called between embeddingsNeeded() and update()');
    if (!Number.isFinite(frame.timestampS)) invalid(`frame ${frame.frameIndex}: timestampS must be finite`);
    this.lastTimestampS = frame.timestampS;
    this.frameTimes.push({ frameIndex: frame.frameIndex, timestampS: frame.timestampS });
    // Motion, hits and lost counts stand still with the scene; an undecided track's box waits with its others.
    for (const track of this.tracks) {
      if (track.phase !== 'tracked' || track.lastReported === null) continue;
      const observation: TrackedBox = { ...track.lastReported, frameIndex: frame.frameIndex, timestampS: frame.timestampS, box: { ...track.lastReported.box } };
      if (track.horse !== null) attribute(track.horse, track, observation);
      else track.pendingBoxes.push(observation);
    }
  }

  embeddingsNeeded(frame: Pick<FramePerception, 'detections' | 'cameraMotion'>): Uint8Array {
    if (this.finished) invalid('embeddingsNeeded() called after finish()');
    this.predictFrame(frame.cameraMotion);
    const detections = frame.detections;
    const needed = new Uint8Array(detections.length).fill(1);
    if (this.options.reidRefreshFrames === 0) return needed;
    for (let d = 0; d < detections.length; d += 1) {
      // Association matches these by overlap alone, and they never teach an appearance.
      if (detections[d]!.score < this.options.highScore) needed[d] = 0;
      else if (this.continuesUnambiguously(detections, d)) needed[d] = 0;
    }
    return needed;
  }

  /** The coming frame's predictions: each track moved with the camera, then by its own motion. */
  private predictFrame(cameraMotion: CameraMotion | undefined): void {
    if (this.framePredicted) return;
    if (cameraMotion !== undefined && !validCameraMotion(cameraMotion)) invalid(`cameraMotion ${JSON.stringify(cameraMotion)} must be finite with a scale in (0.5, 2)`);
    for (const track of this.tracks) {
      if (cameraMotion !== undefined) {
        track.kf.warp(cameraMotion);
        // The horse's unoccluded size is in frame pixels too: a zoom scales it.
        track.fullW *= cameraMotion.scale;
        track.fullH *= cameraMotion.scale;
        if (track.swallowedIn !== null) track.swallowedIn = warpBox(track.swallowedIn, cameraMotion);
      }
      if (track.phase === 'lost') track.kf.holdSize();
      track.kf.predict();
      track.predicted = track.kf.box();
    }
    this.framePredicted = true;
  }

  /**
   * Whether detection d can only be the next box of a decided horse's followed track, so its look
   * would change nothing: that one track's prediction overlaps it at reidSkipMinIoU or more, no
   * other track is near it, no other usable detection is near the track or hides part of d
   * (bankMaxOverlap of it, as for an occluded view), no lost track could re-find its horse there
   * (or the follower holds it at SPOKEN_FOR_IOU, which lost tracks respect), and the track was
   * embedded within the last reidRefreshFrames observations.
   */
  private continuesUnambiguously(detections: readonly Detection[], d: number): boolean {
    const options = this.options;
    const box = detections[d]!.box;
    let follower: Track | null = null;
    let overlap = 0;
    let lostWithinReach = false;
    for (const track of this.tracks) {
      const trackOverlap = iou(track.predicted, box);
      if (trackOverlap >= options.minIoU) {
        if (follower !== null) return false;
        follower = track;
        overlap = trackOverlap;
      } else if (track.phase === 'lost' && track.confirmed && withinReach(track, box, options)) lostWithinReach = true;
    }
    if (follower === null || follower.phase !== 'tracked' || follower.horse === null) return false;
    if (follower.embeddedAgo >= options.reidRefreshFrames) return false;
    if (overlap < options.reidSkipMinIoU || (lostWithinReach && overlap < SPOKEN_FOR_IOU)) return false;
    for (let other = 0; other < detections.length; other += 1) {
      if (other === d || detections[other]!.score < options.lowScore) continue;
      const otherBox = detections[other]!.box;
      if (iou(follower.predicted, otherBox) >= options.minIoU || coverage(box, otherBox, 0) >= options.bankMaxOverlap) return false;
    }
    return true;
  }

  finish(): ChunkTrackingResult {
    this.finished = true;
    const crowded = this.crowdedTest();
    const atViewEdge = (box: Box) => this.atFrameEdge(box, this.frameSize);
    const horses: HorseChunkResult[] = [];
    for (const horse of this.identities.horses) {
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
        frames: fillGaps(frames, this.frameTimes, this.options.interpolateMaxGapS, crowded(horse.frames), atViewEdge),
      });
    }
    horses.sort((a, b) => a.trackingId - b.trackingId);
    // Without continuous tracks an undecided track ends with the chunk: it could never be joined to a horse later.
    const provisional = this.options.continuousTracks ? this.provisionalTracks(crowded, atViewEdge) : [];
    return { horses, provisional, identified: this.identities.identified, state: this.snapshot(), nextTrackingId: this.identities.nextTrackingId, registryMatchMs: this.registryMatchMs };
  }

  /** Confirmed, still undecided tracks with boxes in this chunk: reported now, joined to their horse later. */
  private provisionalTracks(crowded: CrowdedTest, atViewEdge: (box: Box) => boolean): ProvisionalTrackResult[] {
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
        frames: fillGaps(frames, this.frameTimes, this.options.interpolateMaxGapS, crowded(track.pendingBoxes), atViewEdge),
      });
      track.provisional = true;
      track.pendingBoxes = [];
    }
    return results;
  }

  /**
   * For one horse's (or provisional track's) boxes, whether a box in a frame lands on another's
   * detected box (IoU ≥ CROWDED_IOU): an interpolated box there could be that one.
   */
  private crowdedTest(): CrowdedTest {
    const seen = new Map<number, { owner: readonly TrackedBox[]; box: Box }[]>();
    const add = (owner: readonly TrackedBox[]) => {
      for (const observation of owner) {
        const boxes = seen.get(observation.frameIndex);
        if (boxes === undefined) seen.set(observation.frameIndex, [{ owner, box: observation.box }]);
        else boxes.push({ owner, box: observation.box });
      }
    };
    for (const horse of this.identities.horses) add(horse.frames);
    for (const track of this.tracks) if (track.confirmed && track.horse === null) add(track.pendingBoxes);
    return (owner) => (frameIndex, box) => (seen.get(frameIndex) ?? []).some((other) => other.owner !== owner && iou(other.box, box) >= CROWDED_IOU);
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
      emergedFrom: track.emergedFrom,
      swallowedIn: track.swallowedIn,
      lastReported: track.lastReported === null ? null : { box: track.lastReported.box, score: track.lastReported.score },
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
      const horse = index === undefined ? null : this.identities.materialiseKnown(index);
      const kf = continuous ? BoxKalman.restore(snapshot.kalman, this.options.kalman) : new BoxKalman(box, this.options.kalman);
      const track: Track = {
        key: snapshot.key,
        phase: continuous ? snapshot.phase : 'lost',
        kf,
        predicted: kf.box(),
        hits: snapshot.hits,
        lostFrames: snapshot.lostFrames,
        embeddedAgo: Number.POSITIVE_INFINITY,
        confirmed: snapshot.confirmed,
        bank: horse?.bank ?? snapshot.bank,
        appearance: snapshot.appearance,
        horse,
        // The box it ended the previous chunk with, in that chunk's last frame (index −1 here).
        lastReported:
          continuous && snapshot.lastReported
            ? { frameIndex: -1, timestampS: (state.lastFrameMs - this.chunkStartMs) / 1000, box: { ...snapshot.lastReported.box }, score: snapshot.lastReported.score }
            : null,
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
        emergedFrom: snapshot.emergedFrom ?? null,
        swallowedIn: snapshot.swallowedIn ?? null,
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
        const weight = farApart(boxes[a.detection]!, boxes[b.detection]!) ? CO_VISIBLE_APART_WEIGHT : 1;
        if (other.horse !== null) track.coVisibleHorses.set(other.horse.id, (track.coVisibleHorses.get(other.horse.id) ?? 0) + weight);
        else track.coVisibleTracks.set(other.key, (track.coVisibleTracks.get(other.key) ?? 0) + weight);
      }
    }
  }

  private applyMatch(track: Track, frame: FramePerception, d: number, embedding: Float32Array | null, views: FrameViews, wasLost: boolean): DetectionAssignment {
    const box = frame.detections[d]!.box;
    if (wasLost) {
      // Re-found after a gap: restart the motion model at the detection instead of jumping.
      track.kf = new BoxKalman(box, this.options.kalman);
    } else {
      track.kf.update(box);
    }
    track.phase = track.confirmed ? 'tracked' : 'tentative';
    track.lostFrames = 0;
    track.swallowedIn = null;
    track.hits += 1;
    // Only a carry-over track's horse can still have no status here.
    if (track.horse !== null && track.horse.status === null) track.horse.status = 'continued';
    const assignment = this.observe(track, frame, d, embedding, views);
    if (!track.confirmed && track.hits >= this.options.confirmHits) {
      track.confirmed = true;
      track.phase = 'tracked';
      track.emergedFrom = this.hiddenHorseSteppingOut(box);
    }
    return assignment;
  }

  /**
   * The hidden horse a track confirmed at `box` is stepping out as (Track.emergedFrom), among lost
   * tracks with a horse: one known only from pieces (never a clean view) whose predicted box lies
   * mostly inside `box`, or one swallowed by a merged box (swallowedIn) that holds most of `box`.
   * Null for none.
   */
  private hiddenHorseSteppingOut(box: Box): string | null {
    let best: string | null = null;
    let bestShare = EMERGED_MIN_COVERAGE;
    for (const other of this.tracks) {
      if (other.phase !== 'lost' || other.horse === null) continue;
      const piece = other.cleanViews === 0 ? coverage(other.predicted, box, 0) : 0;
      const group = other.swallowedIn === null ? 0 : coverage(box, other.swallowedIn, 0);
      const share = Math.max(piece, group);
      if (share >= bestShare) {
        bestShare = share;
        best = other.horse.id;
      }
    }
    return best;
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
  private observe(track: Track, frame: FramePerception, d: number, embedding: Float32Array | null, views: FrameViews): DetectionAssignment {
    const detection = frame.detections[d]!;
    const pieceBehind = this.pieceBehind(track, frame.detections, d, views);
    const confident = views.confident[d] === 1 && pieceBehind < 0;
    const reportedBox = this.reportedBox(track, frame, d, views, pieceBehind);
    if (views.unoccluded[d] === 1 && pieceBehind < 0) {
      const keep = track.fullW === 0 ? 0 : FULL_SIZE_MOMENTUM;
      track.fullW = keep * track.fullW + (1 - keep) * detection.box.w;
      track.fullH = keep * track.fullH + (1 - keep) * detection.box.h;
    }
    if (embedding === null) track.embeddedAgo += 1;
    else {
      track.embeddedAgo = 0;
      if (detection.score >= this.options.highScore) this.updateAppearance(track, embedding);
    }
    // A view mostly in view counts up, a mostly hidden one down: a piece of a hidden horse stays near 0.
    if (views.occlusion[d]! < MOSTLY_HIDDEN) {
      if (detection.score >= this.options.bankMinScore) track.visibleViews += 1;
    } else track.visibleViews = Math.max(0, track.visibleViews - 1);
    track.cleanNow = confident;
    if (confident) track.cleanViews += 1;
    if (confident && embedding !== null) {
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
      track.lastReported = observation;
      if (track.horse !== null) attribute(track.horse, track, observation);
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

  /**
   * A matched detection that holds most of another live track's predicted box, and more besides,
   * while that track found no detection of its own has swallowed its horse: the detector merged
   * two horses standing together into one box. Such a view shows both coats, so it is no clean
   * view: it teaches neither the feature bank nor the box size (learnt, one horse's bank would
   * match the other). The swallowed track remembers the box it disappeared into (Track.swallowedIn).
   */
  private noteSwallowedHorses(pairs: readonly { track: Track; detection: number }[], matched: ReadonlySet<Track>, detections: readonly Detection[], views: FrameViews): void {
    for (const { track, detection } of pairs) {
      const box = detections[detection]!.box;
      for (const other of this.tracks) {
        if (other === track || !other.confirmed || matched.has(other)) continue;
        if (!holdsAnotherHorse(box, other.predicted)) continue;
        // The group's extent: once it splits, the horse that stayed keeps a smaller box, which may still hold the lost track's stale prediction.
        if (other.swallowedIn === null || boxArea(box) > boxArea(other.swallowedIn)) other.swallowedIn = { ...box };
        views.unoccluded[detection] = 0;
        views.confident[detection] = 0;
      }
    }
  }

  /** Whether `box` reaches the frame's edge (within frameEdgeMargin): the horse may be cut off there. */
  private atFrameEdge(box: Box, frame: FrameSize): boolean {
    const margin = this.options.frameEdgeMargin;
    if (frame.width > 0 && (box.x <= margin * frame.width || box.x + box.w >= (1 - margin) * frame.width)) return true;
    return frame.height > 0 && (box.y <= margin * frame.height || box.y + box.h >= (1 - margin) * frame.height);
  }

  /**
   * The box reported for a track's detection: the detection itself, unless it is occluded and
   * small or weak for its track — only the visible piece of the horse, which still steers the
   * track. Then the horse's completed extent (completeOccluded), or nothing. A box drawn over the
   * horse and another beside it is reported as its part beside the other (otherHorseInside).
   */
  private reportedBox(track: Track, frame: FramePerception, d: number, views: FrameViews, pieceBehind: number): Box | null {
    const detection = frame.detections[d]!;
    const other = this.otherHorseInside(track, detection.box);
    if (other !== null) return outsideOf(detection.box, other);
    let occluder = pieceBehind;
    if (occluder < 0) {
      // Without a clean view yet, the track knows no better extent than the detection.
      if (views.occlusion[d]! < this.options.bankMaxOverlap || track.fullW === 0) return detection.box;
      const sizeable = boxArea(detection.box) >= this.options.occludedReportMinAreaRatio * track.fullW * track.fullH;
      if (sizeable && detection.score >= this.options.occludedReportMinScore) return detection.box;
      if (views.occluder[d]! < 0) return null;
      occluder = this.occluderInFront(frame.detections, d) ?? views.occluder[d]!;
    }
    if (!this.options.completeOccluded) return null;
    return completedBox(detection.box, frame.detections[occluder]!.box, track.fullW, track.fullH, frame.width, frame.height);
  }

  /**
   * When `box`, matched to `track`, is one the detector drew over its horse and another beside it:
   * it is much larger than the box the horse was last reported at and holds most of where another
   * confirmed horse of about its height is in this frame (horsesInFrame). Returns that horse's box,
   * else null. Such a box still steers the track, but only its part beside the other horse is this
   * horse (paddock-2horses: a box over both as the black horse steps away from the chestnut).
   */
  private otherHorseInside(track: Track, box: Box): Box | null {
    if (track.lastReported === null || boxArea(box) < MERGED_MIN_AREA_RATIO * boxArea(track.lastReported.box)) return null;
    for (const other of this.horsesInFrame) {
      if (other.key !== track.key && other.box.h >= SIDE_BY_SIDE_MIN_HEIGHT_RATIO * box.h && holdsAnotherHorse(box, other.box)) return other.box;
    }
    return null;
  }

  /** Where each confirmed track's horse is in this frame: its matched detection, else, when it was seen lately, its predicted box. */
  private placeHorses(pairs: readonly { track: Track; detection: number }[], matched: ReadonlySet<Track>, detections: readonly Detection[]): void {
    this.horsesInFrame.length = 0;
    for (const { track, detection } of pairs) if (track.confirmed) this.horsesInFrame.push({ key: track.key, box: detections[detection]!.box });
    for (const track of this.tracks) {
      if (track.confirmed && !matched.has(track) && seenLately(track)) this.horsesInFrame.push({ key: track.key, box: track.predicted });
    }
  }

  /**
   * A detection that shows only the part of its track's horse sticking out from behind another
   * horse: not occluded by the box test (the piece lies beside the box in front, not inside it),
   * but small for its track (below occludedReportMinAreaRatio of its unoccluded size) and touching
   * a detection that stands in front of it. Returns that detection's index, or −1. Such a piece is
   * no clean view and does not size the track; its horse is reported at its completed extent.
   */
  private pieceBehind(track: Track, detections: readonly Detection[], d: number, views: FrameViews): number {
    if (track.fullW === 0 || views.occlusion[d]! >= this.options.bankMaxOverlap) return -1;
    const piece = detections[d]!.box;
    if (boxArea(piece) >= this.options.occludedReportMinAreaRatio * track.fullW * track.fullH) return -1;
    // Cut off by a horse in front, a box loses more of one side than of the other; a horse that is
    // only farther away keeps its shape.
    if (Math.abs(Math.log(piece.w / piece.h / (track.fullW / track.fullH))) < Math.log(PIECE_MIN_ASPECT_CHANGE)) return -1;
    // The nearest of the boxes it touches (within the occlusion margin).
    return (
      bestInFront(detections, d, (box) => {
        const gap = boxGap(piece, box);
        return gap <= this.options.occlusionMargin * Math.min(box.w, box.h) ? -gap : Number.NEGATIVE_INFINITY;
      }) ?? -1
    );
  }

  /**
   * Of the detections overlapping detection `d`, the one covering most of it among those standing
   * in front of it, which is where the rest of its horse hides; null when none does. A box that
   * overlaps it from behind hides nothing of it (synthetic seed 6: the piece grew toward the horse
   * behind it, onto that horse, which then matched its ID for 3 frames).
   */
  private occluderInFront(detections: readonly Detection[], d: number): number | null {
    const piece = detections[d]!.box;
    return bestInFront(detections, d, (box) => {
      const share = coverage(piece, box, this.options.occlusionMargin);
      return share > 0 ? share : Number.NEGATIVE_INFINITY;
    });
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
      embeddedAgo: Number.POSITIVE_INFINITY,
      confirmed: false,
      bank: null,
      appearance: null,
      horse: null,
      lastReported: null,
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
      emergedFrom: null,
      swallowedIn: null,
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
      const horse = this.identities.materialiseKnown(index);
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

  private validateFrame(frame: FramePerception): (Float32Array | null)[] {
    if (frame === null || typeof frame !== 'object' || !Array.isArray(frame.detections) || !Array.isArray(frame.embeddings)) {
      invalid('frame must have detections and embeddings arrays');
    }
    if (frame.detections.length !== frame.embeddings.length) {
      invalid(`frame ${frame.frameIndex}: ${frame.detections.length} detections but ${frame.embeddings.length} embeddings`);
    }
    if (!Number.isFinite(frame.timestampS)) invalid(`frame ${frame.frameIndex}: timestampS must be finite`);
    const unit: (Float32Array | null)[] = [];
    for (let d = 0; d < frame.detections.length; d += 1) {
      const detection = frame.detections[d]!;
      if (!validBox(detection.box) || !Number.isFinite(detection.score)) {
        invalid(`frame ${frame.frameIndex}: detection ${d} has an invalid box or score`);
      }
      const embedding = frame.embeddings[d]!;
      if (embedding === null) {
        unit.push(null);
        continue;
      }
      if (!(embedding instanceof Float32Array) || embedding.length === 0) invalid(`frame ${frame.frameIndex}: embedding ${d} must be a non-empty Float32Array or null`);
      if (this.dim === -1) this.dim = embedding.length;
      else if (embedding.length !== this.dim) invalid(`frame ${frame.frameIndex}: embedding ${d} has dimension ${embedding.length}, expected ${this.dim}`);
      const norm = Math.sqrt(dot(embedding, embedding));
      unit.push(Math.abs(norm - 1) > 1e-3 ? normalizeInPlace(Float32Array.from(embedding)) : embedding);
    }
    return unit;
  }
}

function validCameraMotion(motion: CameraMotion): boolean {
  return [motion.tx, motion.ty, motion.centreX, motion.centreY].every(Number.isFinite) && motion.scale > 0.5 && motion.scale < 2;
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

/**
 * Whether `box` holds most of `other` (a horse's box or prediction) without being a view of it: a
 * box much like the other's is that horse, or one standing where it was.
 */
function holdsAnotherHorse(box: Box, other: Box): boolean {
  return coverage(other, box, 0) >= SWALLOWED_MIN_COVERAGE && iou(other, box) < CO_VISIBLE_MAX_IOU;
}

/** The wider of the parts of `box` left and right of `other`; null when `other` spans it. */
function outsideOf(box: Box, other: Box): Box | null {
  const left = other.x - box.x;
  const right = box.x + box.w - (other.x + other.w);
  if (left <= 0 && right <= 0) return null;
  return left >= right ? { ...box, w: left } : { ...box, x: other.x + other.w, w: right };
}

/**
 * Of the detections standing in front of detection `d` — their boxes reach lower in the frame,
 * nearer the camera on the ground — the one `rank` rates highest (−Infinity: not a candidate);
 * null when there is none.
 */
function bestInFront(detections: readonly Detection[], d: number, rank: (box: Box) => number): number | null {
  const bottom = detections[d]!.box.y + detections[d]!.box.h;
  let best: number | null = null;
  let bestRank = Number.NEGATIVE_INFINITY;
  for (let o = 0; o < detections.length; o += 1) {
    const box = detections[o]!.box;
    if (o === d || box.y + box.h <= bottom) continue;
    const value = rank(box);
    if (value > bestRank) {
      bestRank = value;
      best = o;
    }
  }
  return best;
}

/** Whether the boxes are more than a body length (the longest side of either) apart: no pieces of one horse. */
function farApart(a: Box, b: Box): boolean {
  return boxGap(a, b) >= Math.max(a.w, a.h, b.w, b.h);
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
