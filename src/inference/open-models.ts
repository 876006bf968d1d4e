/**
 * Start-up: opens the detector and the embedder named by the configuration (PADDOCK_*_MODEL,
 * PADDOCK_*_CONFIG, PADDOCK_EP, thread counts). Any problem fails here with a typed error
 * (MODEL_MISSING, MODEL_INVALID, PROVIDER_UNAVAILABLE), never at the first chunk.
 */
import type { PaddockConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';
import { createDetector, type Detector } from './detector.ts';
import { createEmbedder, type Embedder } from './embedder.ts';
import type { InferenceHook } from './session.ts';

export interface InferenceModels {
  detector: Detector;
  embedder: Embedder;
  release(): Promise<void>;
}

export interface OpenModelsOptions {
  onInference?: InferenceHook;
  logger?: Logger;
  /** Crop margin of the embedder (default 0.05 of the box size on every side). */
  cropMargin?: number;
}

export async function openInferenceModels(models: PaddockConfig['models'], options: OpenModelsOptions = {}): Promise<InferenceModels> {
  const shared = {
    executionProviders: models.executionProviders,
    executionProvidersAskedFor: models.executionProvidersAskedFor,
    intraOpThreads: models.intraOpThreads,
    interOpThreads: models.interOpThreads,
    ...(options.onInference === undefined ? {} : { onInference: options.onInference }),
    ...(options.logger === undefined ? {} : { logger: options.logger }),
  };
  const detector = await createDetector({ ...shared, modelPath: models.detector.modelPath, configPath: models.detector.configPath });
  let embedder: Embedder;
  try {
    embedder = await createEmbedder({
      ...shared,
      modelPath: models.reid.modelPath,
      configPath: models.reid.configPath,
      batchWaitMs: models.reidBatchWaitMs,
      ...(options.cropMargin === undefined ? {} : { cropMargin: options.cropMargin }),
    });
  } catch (error) {
    await detector.release();
    throw error;
  }
  return {
    detector,
    embedder,
    release: async () => {
      await Promise.all([detector.release(), embedder.release()]);
    },
  };
}
