import path from 'node:path';
import { COAT_DIMENSION } from '../../src/appearance/coat.ts';
import { describe, expect, it } from 'vitest';
import { loadConfig, PROJECT_ROOT } from '../../src/config/index.ts';
import { openInferenceModels } from '../../src/inference/open-models.ts';
import { silentLogger } from '../../src/log/index.ts';

const SHARED_MODELS = path.resolve(PROJECT_ROOT, '..', 'shared', 'models');

describe('openInferenceModels', () => {
  it('pointing PADDOCK_*_MODEL at shared models is all it takes (configs come from models/configs)', async () => {
    const config = loadConfig({
      PADDOCK_DETECTOR_MODEL: path.join(SHARED_MODELS, 'yolox_nano_416x416.onnx'),
      PADDOCK_REID_MODEL: path.join(SHARED_MODELS, 'person-reidentification-retail-0288.onnx'),
      PADDOCK_EP: 'cuda,cpu',
      PADDOCK_INTRA_OP_THREADS: '1',
    });
    const models = await openInferenceModels(config.models, { logger: silentLogger() });
    expect(models.detector.provider).toBe('cpu');
    expect(models.detector.config.name).toBe('yolox_nano_416x416');
    expect(models.embedder.config.name).toBe('person-reidentification-retail-0288');
    // The 256-d person re-ID embedding fused with the 28-bin coat descriptor (its config's appearance.coatWeight).
    expect(models.embedder.config.appearance.coatWeight).toBeGreaterThan(0);
    expect(models.embedder.dimension).toBe(256 + COAT_DIMENSION);
    await models.release();
  });

  it('fails at start-up when the reid model is missing, releasing the detector it opened', async () => {
    const config = loadConfig({
      PADDOCK_DETECTOR_MODEL: path.join(SHARED_MODELS, 'nanodet_m_320.onnx'),
      PADDOCK_REID_MODEL: path.join(SHARED_MODELS, 'no-such-model.onnx'),
      PADDOCK_REID_CONFIG: path.join(PROJECT_ROOT, 'models', 'configs', 'osnet_x0_25_msmt17.json'),
      PADDOCK_EP: 'cpu',
    });
    await expect(openInferenceModels(config.models, { logger: silentLogger() })).rejects.toMatchObject({ code: 'MODEL_MISSING' });
  });
});
