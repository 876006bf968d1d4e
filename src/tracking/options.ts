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
  /** Stage 2 gate (low-score detections): IoU with the predicted box at least this. */
  lowScoreMinIoU: number;
  /** Tentative tracks: IoU with the predicted box at least this. */
  tentativeMinIoU: number;
  /** A lost track is re-found by a detection whose best cosine with its bank is at least this. */
  refindSimilarity: number;
  /** Registry decision: a confirmed track is a known horse when its best cosine is at least this. */
  reidSimilarity: number;
  /** Feature banks learn only from detections with at least this score … */
  bankMinScore: number;
  /** … whose IoU with every other detection of the frame is below this (unoccluded). */
  bankMaxOverlap: number;
  /** A known horse last seen at most this many seconds before the chunk starts is carried over. */
  continueWithinS: number;
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
  lowScoreMinIoU: 0.5,
  tentativeMinIoU: 0.3,
  refindSimilarity: 0.7,
  reidSimilarity: 0.75,
  bankMinScore: 0.6,
  bankMaxOverlap: 0.1,
  continueWithinS: 5,
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
  ];
  for (const key of unit) requireRange(key, options[key] as number, 0, 1);
  requireRange('maxAppearanceDistance', options.maxAppearanceDistance, 0, 2);
  requireRange('refindSimilarity', options.refindSimilarity, -1, 1);
  requireRange('reidSimilarity', options.reidSimilarity, -1, 1);
  requireRange('continueWithinS', options.continueWithinS, 0, Number.MAX_VALUE);
  requireInteger('confirmHits', options.confirmHits, 1);
  requireInteger('maxLostFrames', options.maxLostFrames, 0);
  requireInteger('featureBank.size', options.featureBank.size, 1);
  requireRange('featureBank.momentum', options.featureBank.momentum, 0, 1);
  requireRange('featureBank.noveltyMaxSimilarity', options.featureBank.noveltyMaxSimilarity, -1, 1);
  requireRange('kalman.positionStd', options.kalman.positionStd, Number.MIN_VALUE, Number.MAX_VALUE);
  requireRange('kalman.velocityStd', options.kalman.velocityStd, Number.MIN_VALUE, Number.MAX_VALUE);
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
