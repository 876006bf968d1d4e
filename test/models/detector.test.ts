import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDetectorModel, DETECTOR_INPUT_SIZE } from '../../models/detector.ts';
import { createScene } from '../../src/synth/scene.ts';
import { SceneRenderer, GRASS_RGB } from '../../src/synth/render.ts';
import { boxIou, decodeYolov8, letterbox, type ScoredBox } from './letterbox-check.ts';
import type { HorseTruth } from '../../src/synth/render.ts';

const SIZE = DETECTOR_INPUT_SIZE;
const ANCHORS = (SIZE / 8) ** 2;
const MOSTLY_VISIBLE = 0.8;

let session: ort.InferenceSession;

beforeAll(async () => {
  session = await ort.InferenceSession.create(buildDetectorModel(), { intraOpNumThreads: 1 });
});
afterAll(async () => {
  await session.release();
});

async function detect(rgb: Uint8Array, width: number, height: number): Promise<ScoredBox[]> {
  const boxed = letterbox(rgb, width, height, SIZE);
  const result = await session.run({ images: new ort.Tensor('float32', boxed.tensor, [1, 3, SIZE, SIZE]) });
  return decodeYolov8(result.output0?.data as Float32Array, ANCHORS, boxed, 0.3, 0.6);
}

/** Greedy one-to-one matching, most visible horses first. */
function matchFrame(truth: HorseTruth[], detections: ScoredBox[]): { hits: number; misses: number; strayDetections: number } {
  const used = new Set<number>();
  let hits = 0;
  let misses = 0;
  for (const horse of [...truth].sort((a, b) => b.visibility - a.visibility)) {
    let best = -1;
    let bestIou = 0.5;
    detections.forEach((detection, index) => {
      const overlap = boxIou(detection, horse.box);
      if (!used.has(index) && overlap >= bestIou) {
        best = index;
        bestIou = overlap;
      }
    });
    if (best >= 0) used.add(best);
    if (horse.visibility < MOSTLY_VISIBLE) continue;
    if (best >= 0) hits++;
    else misses++;
  }
  // A stray detection is centred on no horse at all (fragments of occluded horses do not count).
  const strayDetections = detections.filter((detection, index) => {
    if (used.has(index)) return false;
    const cx = detection.x + detection.w / 2;
    const cy = detection.y + detection.h / 2;
    return !truth.some((horse) => cx >= horse.box.x && cx <= horse.box.x + horse.box.w && cy >= horse.box.y && cy <= horse.box.y + horse.box.h);
  }).length;
  return { hits, misses, strayDetections };
}

describe('project detector (YOLOv8 layout)', () => {
  it('has the YOLOv8 signature', () => {
    expect(session.inputNames).toEqual(['images']);
    expect(session.outputNames).toEqual(['output0']);
  });

  it('finds at least 95% of mostly visible horses at IoU 0.5 on rendered scenes, with almost no stray boxes', async () => {
    let hits = 0;
    let misses = 0;
    let strays = 0;
    let frames = 0;
    for (const seed of [11, 12]) {
      const scene = createScene({ seed, chunks: 2, secondsPerChunk: 10 });
      const renderer = new SceneRenderer(scene);
      for (let frame = 0; frame < scene.totalFrames; frame += 8) {
        const { rgb, truth } = renderer.renderFrame(frame);
        const result = matchFrame(truth.horses, await detect(rgb, scene.options.width, scene.options.height));
        hits += result.hits;
        misses += result.misses;
        strays += result.strayDetections;
        frames++;
      }
    }
    expect(hits + misses).toBeGreaterThan(80);
    expect(hits / (hits + misses)).toBeGreaterThanOrEqual(0.95);
    expect(strays / frames).toBeLessThan(0.05);
  });

  it('works at another frame size and aspect (the letterbox scales the scene down)', async () => {
    const scene = createScene({ seed: 5, width: 960, height: 540, chunks: 1, secondsPerChunk: 6 });
    const renderer = new SceneRenderer(scene);
    let hits = 0;
    let misses = 0;
    for (let frame = 0; frame < scene.totalFrames; frame += 10) {
      const { rgb, truth } = renderer.renderFrame(frame);
      const result = matchFrame(truth.horses, await detect(rgb, scene.options.width, scene.options.height));
      hits += result.hits;
      misses += result.misses;
    }
    expect(hits / (hits + misses)).toBeGreaterThanOrEqual(0.9);
  });

  it('reports nothing on empty grass and on pure letterbox fill', async () => {
    const width = 320;
    const height = 180;
    const grass = new Uint8Array(width * height * 3);
    for (let index = 0; index < grass.length; index += 3) grass.set(GRASS_RGB, index);
    expect(await detect(grass, width, height)).toEqual([]);
    const fill = new Uint8Array(width * height * 3).fill(114);
    expect(await detect(fill, width, height)).toEqual([]);
  });

  it('boxes a single horse-coloured block tightly', async () => {
    const width = 640;
    const height = 360;
    const rgb = new Uint8Array(width * height * 3);
    for (let index = 0; index < rgb.length; index += 3) rgb.set(GRASS_RGB, index);
    for (let y = 100; y < 200; y++) for (let x = 200; x < 340; x++) rgb.set([130, 70, 40], (y * width + x) * 3);
    const detections = await detect(rgb, width, height);
    expect(detections).toHaveLength(1);
    expect(boxIou(detections[0] as ScoredBox, { x: 200, y: 100, w: 140, h: 100 })).toBeGreaterThan(0.9);
  });
});
