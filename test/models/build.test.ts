import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProjectModels } from '../../models/build.ts';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { parseModelConfig } from '../../src/inference/model-config.ts';

const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function configFile(name: string): Promise<unknown> {
  return JSON.parse(await readFile(path.join(PROJECT_ROOT, 'models', 'configs', name), 'utf8'));
}

describe('buildProjectModels', () => {
  it('writes both models, byte-identical across builds, and skips a build that is already current', async () => {
    const first = await mkdtemp(path.join(os.tmpdir(), 'paddock-models-'));
    const second = await mkdtemp(path.join(os.tmpdir(), 'paddock-models-'));
    directories.push(first, second);
    const a = await buildProjectModels(first);
    const b = await buildProjectModels(second);
    expect(await readFile(a.detector)).toEqual(await readFile(b.detector));
    expect(await readFile(a.reid)).toEqual(await readFile(b.reid));
    const before = (await stat(a.detector)).mtimeMs;
    await buildProjectModels(first);
    expect((await stat(a.detector)).mtimeMs).toBe(before);

    const detector = await ort.InferenceSession.create(a.detector);
    const reid = await ort.InferenceSession.create(a.reid);
    const detectorOutput = await detector.run({ images: new ort.Tensor('float32', new Float32Array(3 * 640 * 640).fill(114 / 255), [1, 3, 640, 640]) });
    expect(detectorOutput.output0?.dims).toEqual([1, 5, 6400]);
    const reidOutput = await reid.run({ input: new ort.Tensor('float32', new Float32Array(2 * 3 * 256 * 128), [2, 3, 256, 128]) });
    expect(reidOutput.output?.dims).toEqual([2, 128]);
    await detector.release();
    await reid.release();
  });

  it('rebuilds a model file that was changed or removed', async () => {
    const directory = await mkdtemp(path.join(os.tmpdir(), 'paddock-models-'));
    directories.push(directory);
    const models = await buildProjectModels(directory);
    const original = await readFile(models.reid);
    await rm(models.reid);
    await buildProjectModels(directory);
    expect(await readFile(models.reid)).toEqual(original);
  });

  it('ships configs the project loader accepts and that describe these models', async () => {
    const detector = parseModelConfig(await configFile('paddock_detector.json'), 'paddock_detector.json');
    expect(detector).toMatchObject({
      task: 'detector',
      classes: ['horse'],
      horseClassIds: [0],
      output: { layout: 'yolov8' },
      input: { name: 'images', width: 640, height: 640, colorOrder: 'RGB', resize: 'letterbox', letterbox: { placement: 'center', fill: 114 } },
    });
    const reid = parseModelConfig(await configFile('paddock_reid.json'), 'paddock_reid.json');
    expect(reid).toMatchObject({ task: 'reid', output: { layout: 'embedding' }, input: { name: 'input', width: 128, height: 256, resize: 'stretch' } });
  });
});
