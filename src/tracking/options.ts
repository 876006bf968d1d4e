/** Tracker options: defaults resolved once into a fully-filled, validated object. */
import { PaddockError } from '../errors/index.ts';
import { DEFAULT_FEATURE_BANK_OPTIONS, type FeatureBankOptions } from './featureBank.ts';
import { DEFAULT_KALMAN_NOISE, type KalmanNoise } from './kalman.ts';

export interface TrackerOptions {
  /** Detections at or above this score take part in the first matching stage. */
  highScore: number;
  /** Detections in [lowScore, highScore) are matched in the second stage, by IoU only; below are ignored. */
  lowScore: number;
  /** An unmatched detection starts a tentative track only at or above this score. */
  newTrackScore: number;
  /** Consecutive hits for a tentative track to be confirmed (n). */
  confirmHits: number;
  /** A lost track is kept this many frames for re-finding, then ended. */
  maxLostFrames: number;
  /** Weight of (1 − IoU) in the fused cost; appearance distance gets 1 − this. */
  iouWeight: number;
  /** Stage 1 gate for tracked tracks: IoU with the predicted box at least this. */
  minIoU: number;
  /** Cosine distance to a track's appearance above which the pair is refused … */
  maxAppearanceDistance: number;
  /** … unless the boxes overlap at least this much (overlap alone is then trusted: weak ReID never splits a track). */
  appearanceVetoMaxIoU: number;
  /** Cosine distance to a track's appearance above which the pair is refused whatever the overlap. */
  maxOverlapAppearanceDistance: number;
  /** … applied only to tracks whose own views agree (running cosine) at least this much: a weak ReID model never vetoes. */
  trustedAppearanceSimilarity: number;
  /** Stage 2 gate (low-score detections): IoU with the predicted box at least this. */
  lowScoreMinIoU: number;
  /** Tentative tracks: IoU with the predicted box at least this. */
  tentativeMinIoU: number;
  /** A lost track is re-found by a detection whose best cosine with its bank is at least this … */
  refindSimilarity: number;
  /** … within this many body lengths (its predicted box's longer side) of its predicted box per frame lost; 0: anywhere. */
  refindReach: number;
  /** Registry decision: a confirmed track is a known horse when its best cosine is at least this. */
  reidSimilarity: number;
  /** Feature banks learn only from detections with at least this score … */
  bankMinScore: number;
  /** … with less than this share of their area inside any other detection's (margin-grown) box: unoccluded. */
  bankMaxOverlap: number;
  /** An occluded detection is reported as its horse's box only at or above this score … */
  occludedReportMinScore: number;
  /** … and only when its area is at least this share of the track's unoccluded box area. */
  occludedReportMinAreaRatio: number;
  /** Report such a partial detection as the horse's completed extent (grown behind its occluder to the track's size) instead of dropping it. */
  completeOccluded: boolean;
  /** A confirmed track becomes a NEW horse only after this many clean (confident, unoccluded, clear of the frame edges) views … */
  newHorseMinCleanViews: number;
  /** … and once it has been tracked this many seconds; until then it may only reactivate a known horse. */
  newHorseMinTrackS: number;
  /** A track tracked this many seconds becomes a new horse even without the clean views (a horse never seen unoccluded). */
  newHorseMaxWaitS: number;
  /** Occlusion tests grow the other box by this share of its shorter side, so a piece that merely touches a horse in front counts as occluded. */
  occlusionMargin: number;
  /**
   * A detection within this share of the frame's width (height) of the frame's left or right (top
   * or bottom) edge may be cut off by the frame — a horse entering or leaving — so it is no clean view.
   */
  frameEdgeMargin: number;
  /** A known horse last seen at most this many seconds before the chunk starts is carried over. */
  continueWithinS: number;
  /**
   * Resume the previous chunk's live tracks (tentative, undecided and lost ones, with their
   * motion and evidence) from the stream's tracker state, instead of starting each chunk from the
   * registry alone (off: the previous, per-chunk tracker, kept for comparison).
   */
  continuousTracks: boolean;
  /**
   * ReID on demand: a decided horse's track followed without ambiguity skips the embedder, but
   * is embedded again at least every this many of its frames to keep its bank fresh. 0: every
   * detection is embedded.
   */
  reidRefreshFrames: number;
  /** … and "without ambiguity" starts with its predicted box overlapping the detection at least this much (IoU). */
  reidSkipMinIoU: number;
  /** A horse unseen for at most this many seconds within a chunk gets interpolated boxes for the frames in between; 0: none. */
  interpolateMaxGapS: number;
  featureBank: FeatureBankOptions;
  kalman: KalmanNoise;
}

export const DEFAULT_TRACKER_OPTIONS: Readonly<TrackerOptions> = Object.freeze({
  highScore: 0.5,
  lowScore: 0.1,
  newTrackScore: 0.6,
  confirmHits: 3,
  maxLostFrames: 30,
  iouWeight: 0.5,
  minIoU: 0.1,
  maxAppearanceDistance: 0.4,
  appearanceVetoMaxIoU: 0.5,
  maxOverlapAppearanceDistance: 0.6,
  trustedAppearanceSimilarity: 0.7,
  lowScoreMinIoU: 0.5,
  tentativeMinIoU: 0.3,
  refindSimilarity: 0.7,
  refindReach: 2,
  reidSimilarity: 0.75,
  bankMinScore: 0.6,
  bankMaxOverlap: 0.1,
  occludedReportMinScore: 0.8,
  occludedReportMinAreaRatio: 0.5,
  completeOccluded: true,
  newHorseMinCleanViews: 3,
  newHorseMinTrackS: 1,
  newHorseMaxWaitS: 6,
  occlusionMargin: 0.05,
  frameEdgeMargin: 0.01,
  continueWithinS: 5,
  continuousTracks: true,
  reidRefreshFrames: 5,
  reidSkipMinIoU: 0.5,
  interpolateMaxGapS: 2,
  featureBank: DEFAULT_FEATURE_BANK_OPTIONS,
  kalman: DEFAULT_KALMAN_NOISE,
});

export function resolveTrackerOptions(partial: Partial<TrackerOptions> = {}): TrackerOptions {
  const options: TrackerOptions = {
    ...DEFAULT_TRACKER_OPTIONS,
    ...partial,
    featureBank: { ...DEFAULT_TRACKER_OPTIONS.featureBank, ...partial.featureBank },
    kalman: { ...DEFAULT_TRACKER_OPTIONS.kalman, ...partial.kalman },
  };
  const unit: (keyof TrackerOptions)[] = [
    'highScore',
    'lowScore',
    'newTrackScore',
    'iouWeight',
    'minIoU',
    'appearanceVetoMaxIoU',
    'lowScoreMinIoU',
    'tentativeMinIoU',
    'bankMinScore',
    'bankMaxOverlap',
    'occludedReportMinScore',
    'occludedReportMinAreaRatio',
    'occlusionMargin',
    'frameEdgeMargin',
    'reidSkipMinIoU',
  ];
  for (const key of unit) requireRange(key, options[key] as number, 0, 1);
  requireRange('maxAppearanceDistance', options.maxAppearanceDistance, 0, 2);
  requireRange('maxOverlapAppearanceDistance', options.maxOverlapAppearanceDistance, 0, 2);
  requireRange('trustedAppearanceSimilarity', options.trustedAppearanceSimilarity, -1, 1);
  requireRange('refindSimilarity', options.refindSimilarity, -1, 1);
  requireRange('refindReach', options.refindReach, 0, Number.MAX_VALUE);
  requireRange('reidSimilarity', options.reidSimilarity, -1, 1);
  requireRange('continueWithinS', options.continueWithinS, 0, Number.MAX_VALUE);
  requireRange('interpolateMaxGapS', options.interpolateMaxGapS, 0, Number.MAX_VALUE);
  requireInteger('confirmHits', options.confirmHits, 1);
  requireInteger('maxLostFrames', options.maxLostFrames, 0);
  requireInteger('reidRefreshFrames', options.reidRefreshFrames, 0);
  requireInteger('newHorseMinCleanViews', options.newHorseMinCleanViews, 0);
  requireRange('newHorseMinTrackS', options.newHorseMinTrackS, 0, Number.MAX_VALUE);
  requireRange('newHorseMaxWaitS', options.newHorseMaxWaitS, 0, Number.MAX_VALUE);
  requireInteger('featureBank.size', options.featureBank.size, 1);
  requireRange('featureBank.momentum', options.featureBank.momentum, 0, 1);
  requireRange('featureBank.noveltyMaxSimilarity', options.featureBank.noveltyMaxSimilarity, -1, 1);
  requireRange('kalman.positionStd', options.kalman.positionStd, Number.MIN_VALUE, Number.MAX_VALUE);
  requireRange('kalman.velocityStd', options.kalman.velocityStd, Number.MIN_VALUE, Number.MAX_VALUE);
  if (typeof options.continuousTracks !== 'boolean') invalid(`tracker option continuousTracks must be a boolean, got ${String(options.continuousTracks)}`);
  if (typeof options.completeOccluded !== 'boolean') invalid(`tracker option completeOccluded must be a boolean, got ${String(options.completeOccluded)}`);
  if (options.lowScore > options.highScore) invalid(`lowScore (${options.lowScore}) must not exceed highScore (${options.highScore})`);
  return options;
}

function requireRange(name: string, value: number, min: number, max: number): void {
  if (typeof value !== 'number' || !(value >= min && value <= max)) invalid(`tracker option ${name} must be in [${min}, ${max}], got ${String(value)}`);
}

function requireInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) invalid(`tracker option ${name} must be an integer ≥ ${min}, got ${String(value)}`);
}

function invalid(message: string): never {
  throw new PaddockError('TRACKING_INVALID', message);
}
