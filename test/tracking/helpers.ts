/** Seeded test data for the tracking tests: noisy embeddings, moving boxes. */
import { mulberry32 } from '../../src/synth/random.ts';
import type { Box, Detection, FramePerception } from '../../src/tracking/types.ts';

/** Standard normal sample (Box–Muller) from a uniform PRNG. */
export function gaussian(random: () => number): number {
  const u1 = Math.max(random(), 1e-12);
  const u2 = random();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
}

export function normalize(vector: Float32Array): Float32Array {
  let norm = 0;
  for (const value of vector) norm += value * value;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < vector.length; i += 1) vector[i] = vector[i]! / norm;
  return vector;
}

/** A random unit vector: the "identity" of one synthetic horse. */
export function randomUnitVector(random: () => number, dim: number): Float32Array {
  const vector = new Float32Array(dim);
  for (let i = 0; i < dim; i += 1) vector[i] = gaussian(random);
  return normalize(vector);
}

/** identity + isotropic noise, renormalised; `noise` ~ per-component std relative to 1/sqrt(dim). */
export function noisyEmbedding(random: () => number, identity: Float32Array, noise: number): Float32Array {
  const dim = identity.length;
  const scale = noise / Math.sqrt(dim);
  const vector = new Float32Array(dim);
  for (let i = 0; i < dim; i += 1) vector[i] = identity[i]! + scale * gaussian(random);
  return normalize(vector);
}

export function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i += 1) dot += a[i]! * b[i]!;
  return dot;
}

export interface SyntheticObject {
  box: Box;
  embedding: Float32Array;
  score?: number;
}

/** Builds one FramePerception from objects (at 5 fps by default). */
export function frame(frameIndex: number, objects: SyntheticObject[], fps = 5): FramePerception {
  const detections: Detection[] = objects.map((object) => ({ box: { ...object.box }, score: object.score ?? 0.9, classId: 0 }));
  return {
    frameIndex,
    timestampS: frameIndex / fps,
    width: 1280,
    height: 720,
    detections,
    embeddings: objects.map((object) => object.embedding),
  };
}

/** A box moving at constant velocity, with optional position jitter. */
export function movingBox(start: Box, velocity: { dx: number; dy: number }, t: number, random?: () => number, jitter = 0): Box {
  const jx = random ? gaussian(random) * jitter : 0;
  const jy = random ? gaussian(random) * jitter : 0;
  return { x: start.x + velocity.dx * t + jx, y: start.y + velocity.dy * t + jy, w: start.w, h: start.h };
}

/** One scripted horse of a synthetic scene. */
export interface ScriptedHorse {
  identity: Float32Array;
  start: Box;
  velocity: { dx: number; dy: number };
  /** Frames (0-based) in which the horse is detected; all when omitted. */
  visible?: (frameIndex: number) => boolean;
  /** Detector score per frame; 0.9 when omitted. */
  score?: (frameIndex: number) => number;
}

export interface SceneFrame {
  frame: FramePerception;
  /** For each detection, the index of the scripted horse it came from (−1 for clutter). */
  truth: number[];
}

/** Generates a deterministic scene: moving boxes with jitter and noisy embeddings. */
export function scene(
  horses: ScriptedHorse[],
  frameCount: number,
  options: { seed?: number; noise?: number; jitter?: number; firstFrame?: number; extra?: (frameIndex: number) => SyntheticObject[] } = {},
): SceneFrame[] {
  const random = mulberry32(options.seed ?? 1);
  const frames: SceneFrame[] = [];
  const first = options.firstFrame ?? 0;
  for (let f = first; f < first + frameCount; f += 1) {
    const objects: SyntheticObject[] = [];
    const truth: number[] = [];
    horses.forEach((horse, index) => {
      if (horse.visible !== undefined && !horse.visible(f)) return;
      objects.push({
        box: movingBox(horse.start, horse.velocity, f, random, options.jitter ?? 1),
        embedding: noisyEmbedding(random, horse.identity, options.noise ?? 0.3),
        score: horse.score?.(f) ?? 0.9,
      });
      truth.push(index);
    });
    for (const object of options.extra?.(f) ?? []) {
      objects.push(object);
      truth.push(-1);
    }
    frames.push({ frame: frame(f - first, objects), truth });
  }
  return frames;
}

/** Distinct identities: random unit vectors in `dim` dimensions (nearly orthogonal). */
export function identities(count: number, dim = 64, seed = 99): Float32Array[] {
  const random = mulberry32(seed);
  return Array.from({ length: count }, () => randomUnitVector(random, dim));
}

/**
 * Two horses, A and B, stand side by side; from frame 10 the detector draws one box over both,
 * and from frame 20 only A's, over where B was. B steps out on the other side at frame 24 in
 * other light (a look unlike its earlier one). C walks in far away meanwhile: a horse of its own.
 * Truth: 0 = A, 1 = B, 2 = C.
 */
export function groupSplitScene(frameCount = 45): SceneFrame[] {
  const [a, b, bLater, c] = identities(4);
  const random = mulberry32(17);
  const frames: SceneFrame[] = [];
  for (let f = 0; f < frameCount; f += 1) {
    const objects: SyntheticObject[] = [];
    const truth: number[] = [];
    const add = (box: Box, identity: Float32Array, who: number) => {
      objects.push({ box, embedding: noisyEmbedding(random, identity, 0.1) });
      truth.push(who);
    };
    if (f < 10) {
      add({ x: 100, y: 100, w: 120, h: 80 }, a!, 0);
      add({ x: 232, y: 100, w: 120, h: 80 }, b!, 1);
    } else if (f < 20) add({ x: 100, y: 100, w: 252, h: 80 }, a!, 0);
    else add({ x: 232, y: 100, w: 120, h: 80 }, a!, 0);
    if (f >= 24) {
      add({ x: 96, y: 100, w: 120, h: 80 }, bLater!, 1);
      add({ x: 520, y: 100, w: 120, h: 80 }, c!, 2);
    }
    frames.push({ frame: frame(f, objects), truth });
  }
  return frames;
}

/** Horse A's box, B's box and the box the detector draws over both in sideBySideMergeScene. */
export const SIDE_BY_SIDE = {
  a: { x: 100, y: 100, w: 120, h: 80 },
  b: { x: 260, y: 100, w: 80, h: 80 },
  merged: { x: 100, y: 100, w: 240, h: 80 },
} as const;

/**
 * Horse A (truth 0) with horse B (truth 1) standing beside it, 30 frames: apart (0–9); one box
 * over both, matched to A, while B is also detected (10–11), then missed for 3 frames (12–14) and
 * for long (15–24); apart again (25–29).
 */
export function sideBySideMergeScene(): SceneFrame[] {
  const [a, b] = identities(2);
  const random = mulberry32(29);
  return Array.from({ length: 30 }, (_, f) => {
    const objects: SyntheticObject[] = [{ box: { ...(f >= 10 && f < 25 ? SIDE_BY_SIDE.merged : SIDE_BY_SIDE.a) }, embedding: noisyEmbedding(random, a!, 0.1) }];
    const truth = [0];
    if (f < 12 || f >= 25) {
      objects.push({ box: { ...SIDE_BY_SIDE.b }, embedding: noisyEmbedding(random, b!, 0.1) });
      truth.push(1);
    }
    return { frame: frame(f, objects), truth };
  });
}
