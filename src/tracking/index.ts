/** Public surface of the tracking core (pure, deterministic). */
export { linearSumAssignment, assignmentCost } from './assignment.ts';
export { BoxKalman, DEFAULT_KALMAN_NOISE, type KalmanNoise } from './kalman.ts';
export { iou, boxArea } from './geometry.ts';
export {
  DEFAULT_FEATURE_BANK_OPTIONS,
  bankSimilarity,
  cloneFeatureBank,
  createFeatureBank,
  normalizeInPlace,
  updateFeatureBank,
  type FeatureBankOptions,
} from './featureBank.ts';
export { HorseGallery } from './gallery.ts';
export { matchIdentities, type IdentityMatch, type IdentityQuery } from './identity.ts';
export { DEFAULT_TRACKER_OPTIONS, resolveTrackerOptions, type TrackerOptions } from './options.ts';
export {
  createChunkTracker,
  type ChunkTracker,
  type ChunkTrackerInit,
  type ChunkTrackingResult,
  type DetectionAssignment,
  type FrameUpdate,
  type HerdSpec,
  type HorseChunkResult,
  type TrackedBox,
} from './tracker.ts';
export { encodeTrackerState, decodeTrackerState, type TrackerState } from './state.ts';
export * from './types.ts';
