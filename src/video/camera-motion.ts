/**
 * Camera motion between two frames (global motion compensation, as in BoT-SORT): the zoom and
 * pan that carry the previous frame onto the current one, estimated on small grey copies by a
 * coarse-to-fine search. Handheld and panning cameras move every box in the frame at once; the
 * tracker moves its predictions along before it matches, so motion alone stays meaningful.
 *
 * Pure: pixels in, a transform out.
 */
import type { RgbImage } from '../inference/index.ts';
import type { CameraMotion } from '../tracking/index.ts';

/** A grey copy of a frame, small enough to search quickly. */
export interface GreyImage {
  width: number;
  height: number;
  /** Row-major, mean-subtracted luma. */
  data: Float32Array;
  /** Frame pixels per grey pixel. */
  step: number;
  /** The frame's size. */
  frameWidth: number;
  frameHeight: number;
  /** The same image at 1/2, 1/4 and 1/8 of the size (the search's coarser levels), made once per frame. */
  coarser: GreyImage[];
}

/** Levels of the search below the finest. */
const COARSER_LEVELS = 3;

/** Width of the finest grey level. */
export const CAMERA_MOTION_WIDTH = 160;
/** Differences above this (luma levels) count as this much: moving horses are outliers to the camera's motion. */
const TRUNCATE = 24;
/** Per-frame search range at the coarsest level (its pixels), and the zooms tried there. */
const COARSE_RANGE = 5;
const COARSE_SCALES = [0.91, 0.94, 0.97, 1, 1.03, 1.06, 1.09];
/** A farther candidate must cost this share less than the nearer best to replace it. */
const MIN_GAIN = 0.01;
/** The share of the current level's points that must land inside the other image. */
const MIN_OVERLAP = 0.5;

/** The frame's grey copy at CAMERA_MOTION_WIDTH wide (box-averaged luma, mean removed). */
export function greyForCameraMotion(frame: RgbImage): GreyImage {
  const width = Math.min(CAMERA_MOTION_WIDTH, frame.width);
  const step = frame.width / width;
  const height = Math.max(1, Math.round(frame.height / step));
  const block = Math.max(1, Math.floor(step));
  const data = new Float32Array(width * height);
  const source = frame.data;
  let sum = 0;
  for (let y = 0; y < height; y += 1) {
    const top = Math.min(frame.height - block, Math.floor(y * step));
    for (let x = 0; x < width; x += 1) {
      const left = Math.min(frame.width - block, Math.floor(x * step));
      let luma = 0;
      for (let dy = 0; dy < block; dy += 1) {
        let at = ((top + dy) * frame.width + left) * 3;
        for (let dx = 0; dx < block; dx += 1, at += 3) luma += 0.299 * source[at]! + 0.587 * source[at + 1]! + 0.114 * source[at + 2]!;
      }
      const value = luma / (block * block);
      data[y * width + x] = value;
      sum += value;
    }
  }
  const mean = sum / data.length;
  for (let i = 0; i < data.length; i += 1) data[i] = data[i]! - mean;
  const finest: GreyImage = { width, height, data, step, frameWidth: frame.width, frameHeight: frame.height, coarser: [] };
  for (let level = 0, image = finest; level < COARSER_LEVELS; level += 1) {
    image = halve(image);
    finest.coarser.push(image);
  }
  return finest;
}

function halve(image: GreyImage): GreyImage {
  const width = Math.max(1, image.width >> 1);
  const height = Math.max(1, image.height >> 1);
  const data = new Float32Array(width * height);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const at = 2 * y * image.width + 2 * x;
      data[y * width + x] = (image.data[at]! + image.data[at + 1]! + image.data[at + image.width]! + image.data[at + image.width + 1]!) / 4;
    }
  }
  return { ...image, width, height, data, step: image.step * 2, coarser: [] };
}

/** Mean truncated difference between previous(p) and current(T(p)), T in this level's pixels; Infinity when too little overlaps. */
function cost(previous: GreyImage, current: GreyImage, scale: number, tx: number, ty: number, stride: number): number {
  const cx = (previous.width - 1) / 2;
  const cy = (previous.height - 1) / 2;
  const w = current.width;
  const h = current.height;
  let total = 0;
  let count = 0;
  let points = 0;
  for (let y = 0; y < previous.height; y += stride) {
    const my = scale * (y - cy) + cy + ty;
    const y0 = Math.floor(my);
    const fy = my - y0;
    for (let x = 0; x < previous.width; x += stride) {
      points += 1;
      const mx = scale * (x - cx) + cx + tx;
      const x0 = Math.floor(mx);
      if (x0 < 0 || y0 < 0 || x0 + 1 >= w || y0 + 1 >= h) continue;
      const fx = mx - x0;
      const at = y0 * w + x0;
      const top = current.data[at]! + fx * (current.data[at + 1]! - current.data[at]!);
      const bottom = current.data[at + w]! + fx * (current.data[at + w + 1]! - current.data[at + w]!);
      const difference = Math.abs(previous.data[y * previous.width + x]! - (top + fy * (bottom - top)));
      total += difference < TRUNCATE ? difference : TRUNCATE;
      count += 1;
    }
  }
  return count < MIN_OVERLAP * points ? Number.POSITIVE_INFINITY : total / count;
}

interface Candidate {
  scale: number;
  tx: number;
  ty: number;
  cost: number;
}

/**
 * The cheapest of the candidates around `centre` (each zoom × a square of shifts `range` wide, in
 * steps of `step`). Candidates are tried nearest first and must beat the best so far by a margin,
 * so a flat or ambiguous image leaves the motion where it was rather than wandering off.
 */
function searchAround(previous: GreyImage, current: GreyImage, scales: readonly number[], centre: Candidate, range: number, step: number, stride: number): Candidate {
  const offsets: number[] = [];
  for (let offset = -range; offset <= range + 1e-9; offset += step) offsets.push(offset);
  const candidates: { scale: number; dx: number; dy: number; distance: number }[] = [];
  for (const scale of scales) {
    for (const dy of offsets) {
      for (const dx of offsets) candidates.push({ scale, dx, dy, distance: Math.abs(scale - centre.scale) * 100 + Math.abs(dx) + Math.abs(dy) });
    }
  }
  candidates.sort((a, b) => a.distance - b.distance);
  let best: Candidate = { scale: centre.scale, tx: centre.tx, ty: centre.ty, cost: Number.POSITIVE_INFINITY };
  for (const { scale, dx, dy } of candidates) {
    const value = cost(previous, current, scale, centre.tx + dx, centre.ty + dy, stride);
    if (value < best.cost * (1 - MIN_GAIN)) best = { scale, tx: centre.tx + dx, ty: centre.ty + dy, cost: value };
  }
  return best;
}

/**
 * The camera's motion from `previous` to `current` (grey copies of equal size), in frame pixels;
 * no motion when the images differ in size or nothing overlaps. Pan first on the coarsest level,
 * then zoom around it, then both refined level by level.
 */
export function estimateCameraMotion(previous: GreyImage, current: GreyImage): CameraMotion {
  const none: CameraMotion = { scale: 1, tx: 0, ty: 0, centreX: current.frameWidth / 2, centreY: current.frameHeight / 2 };
  if (previous.frameWidth !== current.frameWidth || previous.frameHeight !== current.frameHeight || previous.width < 32 || previous.height < 16) return none;
  const level = (k: number) => [previous.coarser[k]!, current.coarser[k]!] as const;
  const middle = level(0);
  const coarse = level(1);
  const coarsest = level(2);
  const zooms = (around: number, spread: number) => [around - spread, around, around + spread];
  // The next finer level has twice the pixels.
  const doubled = (candidate: Candidate): Candidate => ({ ...candidate, tx: 2 * candidate.tx, ty: 2 * candidate.ty });
  let best = searchAround(coarsest[0], coarsest[1], [1], { scale: 1, tx: 0, ty: 0, cost: 0 }, COARSE_RANGE, 1, 1);
  if (!Number.isFinite(best.cost)) return none;
  best = searchAround(coarse[0], coarse[1], COARSE_SCALES, doubled(best), 1, 1, 1);
  best = searchAround(middle[0], middle[1], zooms(best.scale, 0.015), doubled(best), 1, 1, 2);
  best = searchAround(previous, current, [best.scale], doubled(best), 0.5, 0.5, 2);
  if (!Number.isFinite(best.cost)) return none;
  // Grey pixels → frame pixels; the grey image's centre is the frame's centre.
  return { ...none, scale: best.scale, tx: best.tx * previous.step, ty: best.ty * previous.step };
}

/** Camera motion frame by frame: each frame's motion since the frame given before it. */
export class CameraMotionEstimator {
  /** `previous`: the grey copy of the frame before the first one given (e.g. the previous chunk's last). */
  constructor(private previous: GreyImage | null = null) {}

  /** The motion since the previous frame given; undefined for the first (with no `previous`). */
  next(frame: RgbImage): CameraMotion | undefined {
    const grey = greyForCameraMotion(frame);
    const previous = this.previous;
    this.previous = grey;
    return previous === null ? undefined : estimateCameraMotion(previous, grey);
  }

  /** The grey copy of the latest frame given. */
  get latest(): GreyImage | null {
    return this.previous;
  }
}

/** Streams whose last grey copy is kept; the least recently used go first. */
export const CAMERA_CARRY_MAX_STREAMS = 256;

/**
 * Each stream's last frame (its grey copy, about 57 KB) at the end of its latest chunk, so the
 * first frame of the stream's next chunk is compensated too. Only the chunk right after
 * (sequence + 1) uses it; in memory only (a restart or another replica starts the chunk afresh).
 */
export class CameraMotionCarry {
  private readonly last = new Map<string, { sequence: number; grey: GreyImage }>();

  constructor(private readonly maxStreams = CAMERA_CARRY_MAX_STREAMS) {}

  /** An estimator for chunk `sequence` of `streamId`, primed with the previous chunk's last frame when there is one. */
  estimatorFor(streamId: string, sequence: number): CameraMotionEstimator {
    const entry = this.last.get(streamId);
    return new CameraMotionEstimator(entry !== undefined && entry.sequence === sequence - 1 ? entry.grey : null);
  }

  /** Keeps the estimator's latest frame as the end of chunk `sequence`. */
  keep(streamId: string, sequence: number, estimator: CameraMotionEstimator): void {
    const grey = estimator.latest;
    this.last.delete(streamId);
    if (grey === null) return;
    this.last.set(streamId, { sequence, grey });
    if (this.last.size > this.maxStreams) this.last.delete(this.last.keys().next().value!);
  }

  get size(): number {
    return this.last.size;
  }
}
