/**
 * Each detector output layout end to end through onnxruntime: a fixture model emits an output
 * tensor we wrote by hand, and the detector must find exactly the boxes it encodes, in frame
 * pixels. Frames are 128x64, letterboxed into a 64x64 input (×2 back to the frame).
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDetector, type Detector } from '../../src/inference/detector.ts';
import { silentLogger } from '../../src/log/index.ts';
import { fixtureDetectorConfig, solidFrame, writeFixture } from './fixtures.ts';

const frame = solidFrame(128, 64, [90, 120, 60]);
const opened: Detector[] = [];

afterAll(async () => {
  await Promise.all(opened.map((detector) => detector.release()));
});

async function open(modelPath: string, extra: { onInference?: (model: string, provider: string, seconds: number) => void } = {}) {
  const configDir = await mkdtemp(path.join(os.tmpdir(), 'paddock-empty-configs-'));
  const detector = await createDetector({
    modelPath,
    executionProviders: ['cpu'],
    intraOpThreads: 1,
    interOpThreads: 1,
    logger: silentLogger(),
    configDir,
    ...extra,
  });
  opened.push(detector);
  return detector;
}

describe('yolov8 layout [1, 4+nc, N]', () => {
  it('decodes pixel cx,cy,w,h boxes of the horse class and suppresses the overlapping twin', async () => {
    const anchors = 3;
    const rows = [
      [16, 8, 8, 4, 0.9, 0.1], // a person
      [40, 16, 16, 8, 0.05, 0.8], // the horse
      [41, 16, 16, 8, 0.0, 0.6], // the same horse again, weaker
    ];
    const values = new Float32Array(6 * anchors);
    rows.forEach((row, anchor) => row.forEach((value, channel) => (values[channel * anchors + anchor] = value)));
    const fixture = await writeFixture(
      'v8',
      { inputName: 'images', inputDims: [1, 3, 64, 64], outputs: [{ name: 'output0', itemDims: [6, anchors], values }] },
      fixtureDetectorConfig('yolov8', ['person', 'horse']),
    );
    const detector = await open(fixture.modelPath);
    expect(detector.config.horseClassIds).toEqual([1]);
    const detections = await detector.detect(frame);
    expect(detections).toHaveLength(1);
    expect(detections[0]?.classId).toBe(1);
    expect(detections[0]?.score).toBeCloseTo(0.8, 5);
    expect(detections[0]?.box.x).toBeCloseTo(64, 4);
    expect(detections[0]?.box.y).toBeCloseTo(24, 4);
    expect(detections[0]?.box.w).toBeCloseTo(32, 4);
    expect(detections[0]?.box.h).toBeCloseTo(16, 4);
  });
});

describe('yolov5 layout [1, N, 5+nc]', () => {
  const rows = [
    [40, 16, 16, 8, 0.9, 0.5, 0.1], // horse 0.45
    [40, 17, 16, 8, 0.9, 0.1, 0.8], // cow 0.72 on the same animal
    [10, 10, 8, 8, 0.5, 0.5, 0.0], // horse 0.25, under the threshold
  ];
  const values = Float32Array.from(rows.flat());
  const model = { inputName: 'images', inputDims: [1, 3, 64, 64], outputs: [{ name: 'output', itemDims: [3, 7], values }] };

  it('a stronger non-horse duplicate never suppresses the horse', async () => {
    const fixture = await writeFixture('v5', model, fixtureDetectorConfig('yolov5', ['horse', 'cow']));
    const detections = await (await open(fixture.modelPath)).detect(frame);
    expect(detections).toHaveLength(1);
    expect(detections[0]?.classId).toBe(0);
    expect(detections[0]?.score).toBeCloseTo(0.45, 5);
    expect(detections[0]?.box).toEqual({ x: 64, y: 24, w: 32, h: 16 });
  });

  it('one animal under two horse classes counts once, as its best class', async () => {
    const fixture = await writeFixture('v5', model, fixtureDetectorConfig('yolov5', ['horse', 'cow'], { horseClassIds: [0, 1] }));
    const detections = await (await open(fixture.modelPath)).detect(frame);
    expect(detections).toHaveLength(1);
    expect(detections[0]?.classId).toBe(1);
    expect(detections[0]?.score).toBeCloseTo(0.72, 5);
  });

  it('the score threshold comes from the config', async () => {
    const fixture = await writeFixture('v5', model, fixtureDetectorConfig('yolov5', ['horse', 'cow'], { scoreThreshold: 0.5 }));
    expect(await (await open(fixture.modelPath)).detect(frame)).toEqual([]);
  });
});

describe('yolox layout: raw grid output', () => {
  it('decodes (o + grid) * stride and exp(o) * stride at the right level and cell', async () => {
    const cells = 64 + 16 + 4; // 8x8, 4x4, 2x2 for strides 8, 16, 32 on 64x64
    const values = new Float32Array(cells * 6);
    const index = 64 + 1 * 4 + 1; // stride 16, gx = 1, gy = 1
    values.set([0.5, 0.25, Math.log(2), Math.log(1), 0.9, 0.8], index * 6);
    values.set([0, 0, 0, 0, 0.2, 0.9], 3 * 6); // objectness too low
    const fixture = await writeFixture(
      'yolox',
      { inputName: 'images', inputDims: [1, 3, 64, 64], outputs: [{ name: 'output', itemDims: [cells, 6], values }] },
      fixtureDetectorConfig('yolox', ['horse'], { output: { layout: 'yolox', strides: [8, 16, 32] } }),
    );
    const detections = await (await open(fixture.modelPath)).detect(frame);
    expect(detections).toHaveLength(1);
    expect(detections[0]?.score).toBeCloseTo(0.72, 5);
    // cx = 1.5*16 = 24, cy = 1.25*16 = 20, w = 32, h = 16 → model [8, 12, 40, 28] → frame ×2
    const box = detections[0]?.box;
    expect(box?.x).toBeCloseTo(16, 4);
    expect(box?.y).toBeCloseTo(24, 4);
    expect(box?.w).toBeCloseTo(64, 4);
    expect(box?.h).toBeCloseTo(32, 4);
  });

  it('refuses at start-up a model whose anchor count does not fit the strides', async () => {
    const fixture = await writeFixture(
      'yolox-wrong',
      { inputName: 'images', inputDims: [1, 3, 64, 64], outputs: [{ name: 'output', itemDims: [80, 6], values: new Float32Array(480) }] },
      fixtureDetectorConfig('yolox', ['horse']),
    );
    await expect(open(fixture.modelPath)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/84/) });
  });
});

describe('nanodet layout: per-stride cls/dis outputs', () => {
  it('decodes the softmax expectation of the distance bins around the cell centre, centred letterbox', async () => {
    const strides = [8, 16, 32];
    const outputs = strides.flatMap((stride) => {
      const cells = (64 / stride) ** 2;
      return [
        { name: `cls_pred_stride_${stride}`, itemDims: [cells, 2], values: new Float32Array(cells * 2) },
        { name: `dis_pred_stride_${stride}`, itemDims: [cells, 32], values: new Float32Array(cells * 32) },
      ];
    });
    const cell = 3 * 8 + 3; // stride 8, gx = 3, gy = 3 → centre (27.5, 27.5)
    outputs[0]?.values.set([0.7, 0.1], cell * 2);
    const bins = [2, 1, 1, 2]; // left, top, right, bottom, in strides
    bins.forEach((bin, side) => outputs[1]?.values.set([20], cell * 32 + side * 8 + bin));
    const fixture = await writeFixture(
      'nanodet',
      { inputName: 'images', inputDims: [1, 3, 64, 64], outputs },
      fixtureDetectorConfig('nanodet', ['horse', 'dog'], {
        input: {
          layout: 'NCHW',
          width: 64,
          height: 64,
          colorOrder: 'BGR',
          mean: [103.53, 116.28, 123.675],
          std: [57.375, 57.12, 58.395],
          resize: 'letterbox',
          letterbox: { placement: 'center', fill: 0 },
        },
      }),
    );
    const detections = await (await open(fixture.modelPath)).detect(frame);
    expect(detections).toHaveLength(1);
    expect(detections[0]?.score).toBeCloseTo(0.7, 5);
    // model box [11.5, 19.5, 35.5, 43.5]; centred letterbox: offsetY 16; ×2 back
    const box = detections[0]?.box;
    expect(box?.x).toBeCloseTo(23, 3);
    expect(box?.y).toBeCloseTo(7, 3);
    expect(box?.w).toBeCloseTo(48, 3);
    expect(box?.h).toBeCloseTo(48, 3);
  });
});

describe('dynamic batch', () => {
  it('detectBatch runs frames together and keeps each result with its frame', async () => {
    const anchors = 1;
    const values = Float32Array.from([40, 16, 16, 8, 0.2]);
    const gain = Float32Array.from([0, 0, 0, 0, 0.7]); // horse score rises with brightness
    const fixture = await writeFixture(
      'v8-batch',
      { inputName: 'images', inputDims: ['batch', 3, 64, 64], outputs: [{ name: 'output0', itemDims: [5, anchors], values, gain }] },
      fixtureDetectorConfig('yolov8', ['horse'], { scoreThreshold: 0.5 }),
    );
    const runs: number[] = [];
    const detector = await open(fixture.modelPath, { onInference: (_model, _provider, seconds) => runs.push(seconds) });
    expect(detector.dynamicBatch).toBe(true);
    const black = solidFrame(128, 64, [0, 0, 0]); // 0.2 + 0.7 * mean(0, 114/255) ≈ 0.36 < 0.5
    const white = solidFrame(128, 64, [255, 255, 255]);
    const results = await detector.detectBatch([black, white, black, white]);
    expect(runs).toHaveLength(1);
    expect(results.map((detections) => detections.length)).toEqual([0, 1, 0, 1]);
    // mean of the input: half frame at 1.0, half padding at 114/255
    const expected = 0.2 + 0.7 * ((1 + 114 / 255) / 2);
    expect(results[1]?.[0]?.score).toBeCloseTo(expected, 4);
  });
});
