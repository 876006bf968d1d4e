/**
 * The embedder on fixture models: one batched run per frame for a dynamic batch, shared by the
 * requests that wait together, one run per crop for a fixed batch of 1 (NHWC), crops taken from
 * the right place, L2-normalised output.
 */
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cosine, createEmbedder, l2Normalised } from '../../src/inference/embedder.ts';
import type { ModelConfigFile } from '../../src/inference/model-config.ts';
import { silentLogger } from '../../src/log/index.ts';
import { writeFixture } from './fixtures.ts';

/** 32x16 frame: left half black, right half white. */
function halfAndHalf() {
  const width = 32;
  const height = 16;
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) for (let x = width / 2; x < width; x += 1) data.fill(255, (y * width + x) * 3, (y * width + x) * 3 + 3);
  return { width, height, data };
}

function reidConfig(layout: 'NCHW' | 'NHWC'): ModelConfigFile {
  return {
    name: `fixture-reid-${layout}`,
    task: 'reid',
    input: { layout, width: 8, height: 16, colorOrder: 'BGR', scale: 1 / 255, resize: 'stretch' },
    output: { layout: 'embedding' },
  };
}

async function embedderFor(batch: number | string, layout: 'NCHW' | 'NHWC', runs: number[], sharing: { maxBatch?: number; batchWaitMs?: number } = {}) {
  const inputDims = layout === 'NCHW' ? [batch, 3, 16, 8] : [batch, 16, 8, 3];
  const fixture = await writeFixture(
    `reid-${layout}`,
    {
      inputName: 'crops',
      inputDims,
      // embedding = [3, 4 * mean(crop), 0, 0]: black crop → [1,0,0,0], white crop → [0.6, 0.8, 0, 0]
      outputs: [{ name: 'embedding', itemDims: [4], values: Float32Array.from([3, 0, 0, 0]), gain: Float32Array.from([0, 4, 0, 0]) }],
    },
    reidConfig(layout),
  );
  return createEmbedder({
    modelPath: fixture.modelPath,
    executionProviders: ['cpu'],
    intraOpThreads: 1,
    interOpThreads: 1,
    logger: silentLogger(),
    configDir: await mkdtemp(path.join(os.tmpdir(), 'paddock-empty-configs-')),
    cropMargin: 0,
    onInference: (_model, _provider, seconds) => runs.push(seconds),
    ...sharing,
  });
}

const boxes = [
  { x: 2, y: 2, w: 10, h: 12 }, // black
  { x: 18, y: 0, w: 12, h: 16 }, // white
  { x: 1, y: 4, w: 6, h: 6 }, // black
];

describe('embedder', () => {
  it('embeds every crop of a frame in one batched run when the batch is dynamic', async () => {
    const runs: number[] = [];
    const embedder = await embedderFor('batch', 'NCHW', runs);
    expect(embedder.dynamicBatch).toBe(true);
    expect(embedder.dimension).toBe(4);
    const vectors = await embedder.embed(halfAndHalf(), boxes);
    expect(runs).toHaveLength(1);
    expect(Array.from(vectors[0] ?? [])).toEqual([1, 0, 0, 0]);
    expect(vectors[1]?.[0]).toBeCloseTo(0.6, 5);
    expect(vectors[1]?.[1]).toBeCloseTo(0.8, 5);
    expect(Array.from(vectors[2] ?? [])).toEqual([1, 0, 0, 0]);
    expect(await embedder.embed(halfAndHalf(), [])).toEqual([]);
    await embedder.release();
  });

  it('runs once per crop with an NHWC model fixed at batch 1', async () => {
    const runs: number[] = [];
    const embedder = await embedderFor(1, 'NHWC', runs);
    expect(embedder.dynamicBatch).toBe(false);
    const vectors = await embedder.embed(halfAndHalf(), boxes);
    expect(runs).toHaveLength(3);
    expect(cosine(vectors[0] as Float32Array, vectors[2] as Float32Array)).toBeCloseTo(1, 6);
    expect(cosine(vectors[0] as Float32Array, vectors[1] as Float32Array)).toBeCloseTo(0.6, 5);
    await embedder.release();
  });

  it('lets the requests of several streams that wait together share one run, oldest first', async () => {
    const runs: number[] = [];
    const embedder = await embedderFor('batch', 'NCHW', runs);
    const frame = halfAndHalf();
    // The first request starts a run at once; the three that arrive meanwhile share the next.
    const requests = [[boxes[0]!], [boxes[1]!, boxes[2]!], [boxes[2]!, boxes[0]!], [boxes[1]!]].map((some) => embedder.embed(frame, some));
    const results = await Promise.all(requests);
    expect(runs).toHaveLength(2);
    const black = (vector: Float32Array | undefined) => Array.from(vector ?? []).map((value) => Math.round(value * 10) / 10);
    expect(results.map((vectors) => vectors.map(black))).toEqual([
      [[1, 0, 0, 0]],
      [[0.6, 0.8, 0, 0], [1, 0, 0, 0]],
      [[1, 0, 0, 0], [1, 0, 0, 0]],
      [[0.6, 0.8, 0, 0]],
    ]);
    await embedder.release();
  });

  it('splits waiting crops into runs of maxBatch, and waits batchWaitMs for company when asked to', async () => {
    const split: number[] = [];
    const small = await embedderFor('batch', 'NCHW', split, { maxBatch: 2 });
    const vectors = await Promise.all([small.embed(halfAndHalf(), boxes), small.embed(halfAndHalf(), boxes)]);
    expect(vectors.flat()).toHaveLength(6);
    // Runs of at most 2 crops, oldest first: the first request's two, its third with the second's first, then the rest.
    expect(split).toHaveLength(3);
    await small.release();

    const waited: number[] = [];
    const patient = await embedderFor('batch', 'NCHW', waited, { batchWaitMs: 50 });
    const first = patient.embed(halfAndHalf(), [boxes[0]!]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await Promise.all([first, patient.embed(halfAndHalf(), [boxes[1]!])]);
    expect(waited).toHaveLength(1);
    await patient.release();
  });

  it('finishes the waiting requests before it releases the model, and refuses new ones after', async () => {
    const embedder = await embedderFor('batch', 'NCHW', [], { batchWaitMs: 1_000 });
    const pending = embedder.embed(halfAndHalf(), boxes);
    await embedder.release();
    expect(await pending).toHaveLength(3);
    await expect(embedder.embed(halfAndHalf(), boxes)).rejects.toMatchObject({ code: 'INFERENCE' });
  });

  it('refuses boxes without a positive size', async () => {
    const embedder = await embedderFor('batch', 'NCHW', []);
    await expect(embedder.embed(halfAndHalf(), [{ x: 1, y: 1, w: 0, h: 4 }])).rejects.toMatchObject({ code: 'INFERENCE' });
    await embedder.release();
  });
});

describe('cosine and l2Normalised', () => {
  it('compares direction, not length', () => {
    expect(cosine(Float32Array.from([1, 0]), Float32Array.from([5, 0]))).toBeCloseTo(1, 6);
    expect(cosine(Float32Array.from([1, 0]), Float32Array.from([0, 2]))).toBeCloseTo(0, 6);
    expect(cosine(Float32Array.from([1, 1]), Float32Array.from([-1, -1]))).toBeCloseTo(-1, 6);
    expect(cosine(Float32Array.from([0, 0]), Float32Array.from([1, 1]))).toBe(0);
  });

  it('refuses vectors of different dimension', () => {
    expect(() => cosine(new Float32Array(3), new Float32Array(4))).toThrow(/dimension/);
  });

  it('normalises to unit length into a new vector', () => {
    const source = Float32Array.from([3, 4]);
    const unit = l2Normalised(source);
    expect(Array.from(unit)).toEqual([0.6000000238418579, 0.800000011920929]);
    expect(Array.from(source)).toEqual([3, 4]);
  });
});
