/**
 * Start-up behaviour: execution-provider fallback, and the typed errors a bad model or config
 * raises when the detector/embedder is created (never at the first chunk).
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createDetector, type DetectorOptions } from '../../src/inference/detector.ts';
import { createEmbedder } from '../../src/inference/embedder.ts';
import { silentLogger } from '../../src/log/index.ts';
import { fixtureDetectorConfig, solidFrame, writeFixture, type FixtureModel } from './fixtures.ts';

const yolov8Model: FixtureModel = {
  inputName: 'images',
  inputDims: [1, 3, 64, 64],
  outputs: [{ name: 'output0', itemDims: [5, 1], values: Float32Array.from([32, 32, 16, 16, 0.9]) }],
};
const horseConfig = fixtureDetectorConfig('yolov8', ['horse']);

async function emptyDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'paddock-sessions-'));
}

async function options(modelPath: string, extra: Partial<DetectorOptions> = {}): Promise<DetectorOptions> {
  return {
    modelPath,
    executionProviders: ['cpu'],
    intraOpThreads: 1,
    interOpThreads: 1,
    logger: silentLogger(),
    configDir: await emptyDir(),
    ...extra,
  };
}

describe('execution providers', () => {
  it('falls back from an unavailable CUDA provider to the CPU and says which one it uses', async () => {
    const fixture = await writeFixture('ep', yolov8Model, horseConfig);
    const detector = await createDetector(await options(fixture.modelPath, { executionProviders: ['cuda', 'cpu'] }));
    expect(detector.provider).toBe('cpu');
    expect(await detector.detect(solidFrame(64, 64, [0, 0, 0]))).toHaveLength(1);
    await detector.release();
  });

  it('says a missing CUDA provider once per process: a warning when PADDOCK_EP asked for it, else a debug line', async () => {
    const fixture = await writeFixture('ep', yolov8Model, horseConfig);
    for (const askedFor of [true, false]) {
      const lines: Array<{ level: number; msg: string }> = [];
      const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as { level: number; msg: string }) });
      for (let model = 0; model < 2; model += 1) {
        const detector = await createDetector(await options(fixture.modelPath, { executionProviders: ['cuda', 'cpu'], executionProvidersAskedFor: askedFor, logger }));
        expect(detector.provider).toBe('cpu');
        await detector.release();
      }
      const aboutCuda = lines.filter((line) => line.msg.includes('cuda'));
      expect(aboutCuda).toEqual([expect.objectContaining({ level: askedFor ? 40 : 20, msg: 'the cuda execution provider is not installed; trying cpu' })]);
      expect(lines.filter((line) => line.level >= 40 && line !== aboutCuda[0])).toEqual([]);
    }
  });

  it('fails with PROVIDER_UNAVAILABLE when no listed provider works', async () => {
    const fixture = await writeFixture('ep', yolov8Model, horseConfig);
    await expect(createDetector(await options(fixture.modelPath, { executionProviders: ['cuda'] }))).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      message: expect.stringContaining('cuda'),
    });
  });

  it('reports every run to the onInference hook with model, provider and seconds (not the warm-up)', async () => {
    const fixture = await writeFixture('hook', yolov8Model, horseConfig);
    const calls: Array<[string, string, number]> = [];
    const detector = await createDetector(
      await options(fixture.modelPath, { onInference: (model, provider, seconds) => calls.push([model, provider, seconds]) }),
    );
    expect(calls).toHaveLength(0);
    await detector.detect(solidFrame(64, 64, [0, 0, 0]));
    await detector.detect(solidFrame(64, 64, [0, 0, 0]));
    expect(calls).toHaveLength(2);
    expect(calls[0]?.[0]).toBe('fixture-yolov8');
    expect(calls[0]?.[1]).toBe('cpu');
    expect(calls[0]?.[2]).toBeGreaterThan(0);
    await detector.release();
  });
});

describe('start-up errors', () => {
  it('a missing model is MODEL_MISSING', async () => {
    const dir = await emptyDir();
    await writeFile(path.join(dir, 'absent.json'), JSON.stringify(horseConfig));
    await expect(createDetector(await options(path.join(dir, 'absent.onnx')))).rejects.toMatchObject({ code: 'MODEL_MISSING' });
  });

  it('a file that is not an ONNX model is MODEL_INVALID', async () => {
    const dir = await emptyDir();
    await writeFile(path.join(dir, 'garbage.onnx'), Buffer.from('this is not a protobuf model at all'));
    await writeFile(path.join(dir, 'garbage.json'), JSON.stringify(horseConfig));
    await expect(createDetector(await options(path.join(dir, 'garbage.onnx'), { executionProviders: ['cuda', 'cpu'] }))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
    });
  });

  it('a model without any config is MODEL_MISSING naming the paths tried', async () => {
    const fixture = await writeFixture('noconfig', yolov8Model);
    await expect(createDetector(await options(fixture.modelPath))).rejects.toMatchObject({
      code: 'MODEL_MISSING',
      message: expect.stringContaining('noconfig.json'),
    });
  });

  it('an explicit config path wins over the one beside the model', async () => {
    const fixture = await writeFixture('explicit', yolov8Model, { ...horseConfig, name: 'beside' });
    const explicit = path.join(await emptyDir(), 'other.json');
    await writeFile(explicit, JSON.stringify({ ...horseConfig, name: 'explicit' }));
    const detector = await createDetector(await options(fixture.modelPath, { configPath: explicit }));
    expect(detector.config.name).toBe('explicit');
    await detector.release();
  });

  it('a config that does not fit the model input is MODEL_INVALID', async () => {
    const fixture = await writeFixture('size', yolov8Model, {
      ...horseConfig,
      input: { ...horseConfig.input, width: 32, height: 32 },
    });
    await expect(createDetector(await options(fixture.modelPath))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('32x32'),
    });
  });

  it('a config whose class count does not fit the output is MODEL_INVALID', async () => {
    const fixture = await writeFixture('classes', yolov8Model, fixtureDetectorConfig('yolov8', ['horse', 'cow', 'sheep']));
    await expect(createDetector(await options(fixture.modelPath))).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });

  it('a config with an unknown key or broken JSON is MODEL_INVALID', async () => {
    const typo = await writeFixture('typo', yolov8Model, { ...horseConfig, scoreTreshold: 0.5 } as never);
    await expect(createDetector(await options(typo.modelPath))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('scoreTreshold'),
    });
    const broken = await writeFixture('broken', yolov8Model);
    await writeFile(broken.configPath, '{ "name": ');
    await expect(createDetector(await options(broken.modelPath))).rejects.toMatchObject({ code: 'MODEL_INVALID' });
  });

  it('a detector config given to the embedder is MODEL_INVALID', async () => {
    const fixture = await writeFixture('task', yolov8Model, horseConfig);
    await expect(createEmbedder(await options(fixture.modelPath))).rejects.toMatchObject({
      code: 'MODEL_INVALID',
      message: expect.stringContaining('not a reid model'),
    });
  });

  it('bad frames are refused with a typed error', async () => {
    const fixture = await writeFixture('frames', yolov8Model, horseConfig);
    const detector = await createDetector(await options(fixture.modelPath));
    await expect(detector.detect({ width: 64, height: 64, data: Buffer.alloc(10) })).rejects.toMatchObject({ code: 'INFERENCE' });
    await expect(detector.detect({ width: 0, height: 64, data: Buffer.alloc(10) })).rejects.toMatchObject({ code: 'INFERENCE' });
    await detector.release();
  });
});
