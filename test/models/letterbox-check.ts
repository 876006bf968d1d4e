/**
 * Test-side reference for the project detector: a plain centre letterbox, YOLOv8 decoding and
 * greedy NMS, written independently of src/inference so model tests do not depend on it.
 */
import type { Box } from '../../src/tracking/types.ts';

export interface Letterboxed {
  tensor: Float32Array;
  scale: number;
  padX: number;
  padY: number;
}

/** Centre letterbox with nearest-neighbour resize, grey 114, RGB NCHW scaled 1/255. */
export function letterbox(rgb: Uint8Array, width: number, height: number, size: number): Letterboxed {
  const scale = Math.min(size / width, size / height);
  const newWidth = Math.round(width * scale);
  const newHeight = Math.round(height * scale);
  const padX = Math.floor((size - newWidth) / 2);
  const padY = Math.floor((size - newHeight) / 2);
  const plane = size * size;
  const tensor = new Float32Array(3 * plane).fill(114 / 255);
  for (let y = 0; y < newHeight; y++) {
    const sourceY = Math.min(height - 1, Math.floor((y + 0.5) / scale));
    for (let x = 0; x < newWidth; x++) {
      const sourceX = Math.min(width - 1, Math.floor((x + 0.5) / scale));
      const source = (sourceY * width + sourceX) * 3;
      const target = (y + padY) * size + x + padX;
      tensor[target] = (rgb[source] as number) / 255;
      tensor[plane + target] = (rgb[source + 1] as number) / 255;
      tensor[2 * plane + target] = (rgb[source + 2] as number) / 255;
    }
  }
  return { tensor, scale, padX, padY };
}

export interface ScoredBox extends Box {
  score: number;
}

export function boxIou(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (a.w * a.h + b.w * b.h - inter);
}

/** Decodes a [1, 4 + nc, N] YOLOv8 output (nc = 1), thresholds, NMS, maps back to frame pixels. */
export function decodeYolov8(output: Float32Array, anchors: number, box: Letterboxed, scoreThreshold: number, iouThreshold: number): ScoredBox[] {
  const candidates: ScoredBox[] = [];
  for (let i = 0; i < anchors; i++) {
    const score = output[4 * anchors + i] as number;
    if (score < scoreThreshold) continue;
    const cx = output[i] as number;
    const cy = output[anchors + i] as number;
    const w = output[2 * anchors + i] as number;
    const h = output[3 * anchors + i] as number;
    candidates.push({ x: (cx - w / 2 - box.padX) / box.scale, y: (cy - h / 2 - box.padY) / box.scale, w: w / box.scale, h: h / box.scale, score });
  }
  candidates.sort((a, b) => b.score - a.score);
  const kept: ScoredBox[] = [];
  for (const candidate of candidates) {
    if (kept.every((winner) => boxIou(winner, candidate) <= iouThreshold)) kept.push(candidate);
  }
  return kept;
}
