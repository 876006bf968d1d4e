import type { PaddockConfig } from '../config/index.ts';
import { openInferenceModels, type InferenceHook, type InferenceModels } from '../inference/index.ts';
import { PaddockError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { openRegistry, type MigrationPolicy, type RegistryHooks, type SqlRegistryStore } from '../registry/index.ts';
import { DEFAULT_FEATURE_BANK_OPTIONS, type TrackerOptions } from '../tracking/index.ts';
import { CameraMotionCarry, decodeOptionsFromConfig } from '../video/index.ts';
import { createStreamEffects } from './stream-effects.ts';

/** Frames are scaled on ffmpeg's side to at most this size: enough for the detector and ReID crops. */
export const DECODE_MAX_SIDE = 960;

export interface Pipeline {
  store: SqlRegistryStore;
  models: InferenceModels;
  effects: ReturnType<typeof createStreamEffects>;
  close(): Promise<void>;
}

/**
 * Everything a stream actor needs, opened in start-up order: models first (a missing or invalid
 * model fails here, before any chunk), then the registry. `demo`, `process` and `run` all use it.
 * The models must exist: building the project's own ones is the CLI's job (src/cli/project-models.ts).
 */
export async function openPipeline(options: {
  config: PaddockConfig;
  logger: Logger;
  migrations: MigrationPolicy;
  registryHooks?: RegistryHooks;
  onInference?: InferenceHook;
}): Promise<Pipeline> {
  const { config, logger } = options;
  let models: InferenceModels;
  try {
    models = await openInferenceModels(config.models, {
      logger,
      ...(options.onInference === undefined ? {} : { onInference: options.onInference }),
    });
  } catch (error) {
    if (error instanceof PaddockError && (error.code === 'MODEL_MISSING' || error.code === 'MODEL_INVALID' || error.code === 'PROVIDER_UNAVAILABLE')) {
      const variables = error.code === 'PROVIDER_UNAVAILABLE' ? 'PADDOCK_EP' : 'PADDOCK_DETECTOR_MODEL/PADDOCK_REID_MODEL (and their _CONFIG)';
      throw new PaddockError(error.code, `${variables}: ${error.message}`, { cause: error, details: error.details });
    }
    throw error;
  }
  let store: SqlRegistryStore;
  try {
    store = await openRegistry({ config, logger, migrations: options.migrations, ...(options.registryHooks === undefined ? {} : { hooks: options.registryHooks }) });
  } catch (error) {
    await models.release();
    throw error;
  }
  const effects = createStreamEffects({
    store,
    detector: models.detector,
    embedder: models.embedder,
    decodeOptions: decodeOptionsFromConfig(config, { maxWidth: DECODE_MAX_SIDE, maxHeight: DECODE_MAX_SIDE }),
    motionGate: config.motionGate,
    ...(config.cameraMotion ? { cameraMotion: new CameraMotionCarry() } : {}),
    trackerOptions: trackerOptionsFor(config, models),
    logger,
  });
  return {
    store,
    models,
    effects,
    async close() {
      await effects.settled();
      await store.close();
      await models.release();
    },
  };
}

/**
 * Tracker settings: the tracker's defaults, then the detector's and the reid model's calibrated
 * settings (their configs' `tracking`), then what the environment sets explicitly.
 */
export function trackerOptionsFor(config: PaddockConfig, models: Pick<InferenceModels, 'detector' | 'embedder'>): Partial<TrackerOptions> {
  return {
    ...definedOnly(models.detector.config.tracking),
    ...definedOnly(models.embedder.config.tracking),
    ...(config.reidThreshold === undefined ? {} : { reidSimilarity: config.reidThreshold }),
    ...(config.reidRefreshFrames === undefined ? {} : { reidRefreshFrames: config.reidRefreshFrames }),
    featureBank: { ...DEFAULT_FEATURE_BANK_OPTIONS, size: config.featureExemplars },
  };
}

function definedOnly<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}
