/**
 * openPipeline never builds models (that is the CLI's job, src/cli/project-models.ts): a model
 * file that is not there fails the start clearly, naming the variables to set.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { openPipeline } from '../../src/pipeline/runtime.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-runtime-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openPipeline', () => {
  it('a missing model file is MODEL_MISSING naming PADDOCK_DETECTOR_MODEL/PADDOCK_REID_MODEL, before the registry opens', async () => {
    const config = loadConfig({
      PADDOCK_DATA_DIR: path.join(dir, 'data'),
      PADDOCK_DETECTOR_MODEL: path.join(dir, 'models', 'absent_detector.onnx'),
      PADDOCK_REID_MODEL: path.join(dir, 'models', 'absent_reid.onnx'),
      PADDOCK_LOG_LEVEL: 'silent',
      PADDOCK_EP: 'cpu',
    });
    const opening = openPipeline({ config, logger: silentLogger(), migrations: 'apply' });
    await expect(opening).rejects.toMatchObject({ code: 'MODEL_MISSING' });
    await expect(opening).rejects.toThrow(/PADDOCK_DETECTOR_MODEL\/PADDOCK_REID_MODEL/);
    // Nothing was built into the models' folder and no registry was created.
    expect(await readdir(dir)).toEqual([]);
  });
});
