/** Synthetic paddock streams with exact ground truth: scene model, renderer, MOT lines, writer. */
export { COATS, MAX_HORSES, nearTwinOf, type Coat, type CoatPattern, type Rgb } from './coats.ts';
export { seededRandom, type Random } from './random.ts';
export {
  createScene,
  horsePoseAt,
  scenePosesAt,
  frameTime,
  horseSizeAt,
  DEFAULT_SCENE_OPTIONS,
  type Scene,
  type SceneHorse,
  type SceneOptions,
  type HorsePose,
} from './scene.ts';
export { SceneRenderer, renderBackground, GRASS_RGB, HALO_PX, type FrameTruth, type HorseTruth } from './render.ts';
export { motLines, visibilityLines, isListed, MIN_LISTED_VISIBILITY } from './ground-truth.ts';
export { writeSyntheticStream, chunkFileName, describeScene, type SyntheticStream, type SyntheticStreamOptions } from './writer.ts';
