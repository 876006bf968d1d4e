import path from 'node:path';
import { DEFAULT_DETECTOR_MODEL, DEFAULT_REID_MODEL, type PaddockConfig } from '../config/index.ts';
import type { Logger } from '../log/index.ts';

/**
 * The project's own models are built on first use when the configuration points at them (the
 * default), so a fresh clone runs without downloads; any other model must exist. The commands
 * that open a pipeline (`demo`, `process`, `run`) call this first; the runtime never builds models.
 */
export async function ensureProjectModels(config: PaddockConfig, logger: Logger): Promise<void> {
  const usesDefaults = config.models.detector.modelPath === DEFAULT_DETECTOR_MODEL || config.models.reid.modelPath === DEFAULT_REID_MODEL;
  if (!usesDefaults) return;
  // Loaded lazily: the builder (and what it imports) is needed only with the default models.
  const { buildProjectModels } = await import('../../models/build.ts');
  const built = await buildProjectModels(path.dirname(DEFAULT_DETECTOR_MODEL));
  logger.debug({ detector: built.detector, reid: built.reid }, 'project models ready');
}
