/** Inference: model configs, onnxruntime sessions, detector output layouts, NMS, ReID embedding. */
export { createDetector, type Detector, type DetectorOptions } from './detector.ts';
export { createEmbedder, cosine, l2Normalised, type Embedder, type EmbedderOptions } from './embedder.ts';
export {
  loadModelConfig,
  parseModelConfig,
  resolveModelConfigPath,
  modelConfigCandidates,
  type ModelConfig,
  type ModelConfigFile,
  type InputSpec,
  type ModelTrackingSettings,
} from './model-config.ts';
export type { RgbImage } from './preprocess.ts';
export type { InferenceHook } from './session.ts';
export { COCO_CLASSES, COCO_HORSE_CLASS_ID } from './coco-classes.ts';
export { openInferenceModels, type InferenceModels, type OpenModelsOptions } from './open-models.ts';
