import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReidModel, REID_EMBEDDING_SIZE } from '../../models/reid.ts';
import { computeReidCentre, writeReidCrop } from '../../models/reid-calibration.ts';
import { createScene, type SceneOptions } from '../../src/synth/scene.ts';
import { SceneRenderer } from '../../src/synth/render.ts';
import type { Box } from '../../src/tracking/types.ts';

const CROP = 3 * 256 * 128;
let session: ort.InferenceSession;

beforeAll(async () => {
  session = await ort.InferenceSession.create(buildReidModel(await computeReidCentre()), { intraOpNumThreads: 1 });
});
afterAll(async () => {
  await session.release();
});

async function embedBatch(crops: Float32Array[]): Promise<Float32Array[]> {
  const data = new Float32Array(crops.length * CROP);
  crops.forEach((crop, index) => data.set(crop, index * CROP));
  const result = await session.run({ input: new ort.Tensor('float32', data, [crops.length, 3, 256, 128]) });
  const output = result.output?.data as Float32Array;
  return crops.map((_, index) => output.slice(index * REID_EMBEDDING_SIZE, (index + 1) * REID_EMBEDDING_SIZE));
}

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let index = 0; index < a.length; index++) {
    dot += (a[index] as number) * (b[index] as number);
    na += (a[index] as number) ** 2;
    nb += (b[index] as number) ** 2;
  }
  return dot / Math.sqrt(na * nb);
}

/** Crops of clearly visible horses every `step` frames, across the whole stream (all chunks). */
async function sampleEmbeddings(options: Partial<SceneOptions>, step: number): Promise<Array<{ id: number; embedding: Float32Array }>> {
  const scene = createScene(options);
  const renderer = new SceneRenderer(scene);
  const ids: number[] = [];
  const crops: Float32Array[] = [];
  for (let frame = 0; frame < scene.totalFrames; frame += step) {
    const { rgb, truth } = renderer.renderFrame(frame);
    for (const horse of truth.horses) {
      if (horse.visibility < 0.9) continue;
      const crop = new Float32Array(CROP);
      writeReidCrop(rgb, scene.options.width, scene.options.height, horse.box, crop, 0);
      crops.push(crop);
      ids.push(horse.id);
    }
  }
  const embeddings = await embedBatch(crops);
  return embeddings.map((embedding, index) => ({ id: ids[index] as number, embedding }));
}

function meanSimilarity(samples: Array<{ id: number; embedding: Float32Array }>, a: number, b: number): number {
  let sum = 0;
  let count = 0;
  for (const x of samples) {
    if (x.id !== a) continue;
    for (const y of samples) {
      if (y.id !== b || x === y) continue;
      sum += cosine(x.embedding, y.embedding);
      count++;
    }
  }
  return sum / count;
}

describe('project embedder (OSNet signature)', () => {
  it('has the OSNet input/output names and a dynamic batch', async () => {
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['output']);
    const crop = new Float32Array(CROP).map((_, index) => Math.sin(index) * 0.5);
    const [alone] = await embedBatch([crop]);
    const batch = await embedBatch([new Float32Array(CROP), crop, crop]);
    expect(batch).toHaveLength(3);
    expect(cosine(alone as Float32Array, batch[2] as Float32Array)).toBeCloseTo(1, 5);
  });

  it('keeps one horse close across the stream and different horses apart', async () => {
    const samples = await sampleEmbeddings({ seed: 21, chunks: 3, secondsPerChunk: 10 }, 12);
    const ids = [...new Set(samples.map((sample) => sample.id))].sort((a, b) => a - b);
    expect(ids.length).toBeGreaterThanOrEqual(4);
    for (const a of ids) {
      const same = meanSimilarity(samples, a, a);
      expect(same).toBeGreaterThan(0.8);
      for (const b of ids) {
        if (b === a) continue;
        expect(meanSimilarity(samples, a, b)).toBeLessThan(same - 0.35);
      }
    }
  });

  it('is unchanged by mirroring (a horse facing the other way)', async () => {
    const scene = createScene({ seed: 4, chunks: 1 });
    const { rgb, truth } = new SceneRenderer(scene).renderFrame(0);
    const horse = truth.horses.find((candidate) => candidate.visibility > 0.95);
    expect(horse).toBeDefined();
    const box = (horse as { box: Box }).box;
    const crop = new Float32Array(CROP);
    writeReidCrop(rgb, scene.options.width, scene.options.height, box, crop, 0);
    const mirrored = new Float32Array(CROP);
    for (let row = 0; row < 3 * 256; row++) {
      for (let x = 0; x < 128; x++) mirrored[row * 128 + x] = crop[row * 128 + 127 - x] as number;
    }
    const [a, b] = await embedBatch([crop, mirrored]);
    expect(cosine(a as Float32Array, b as Float32Array)).toBeGreaterThan(0.98);
  });

  it('cannot tell the deliberate near-identical pair apart (the hard case is meant for the tracker)', async () => {
    const samples = await sampleEmbeddings({ seed: 22, chunks: 1, secondsPerChunk: 10, hard: true }, 10);
    const twins = createScene({ seed: 22, chunks: 1, secondsPerChunk: 10, hard: true }).twinIds as [number, number];
    expect(samples.some((sample) => sample.id === twins[0])).toBe(true);
    expect(samples.some((sample) => sample.id === twins[1])).toBe(true);
    expect(meanSimilarity(samples, twins[0], twins[1])).toBeGreaterThan(0.8);
  });
});
