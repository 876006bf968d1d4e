/**
 * The two IoU formulas the reference libraries use, reproduced operation for operation so
 * that threshold comparisons (IoU ≥ 0.5, IoU ≥ α) fall the same way on the same doubles.
 */
import type { MotRow } from './mot-format.ts';

/** CLEAR/identity pairs are allowed when the py-motmetrics distance 1 − IoU is at most this. */
export const MAX_IOU_DISTANCE = 0.5;

/**
 * py-motmetrics `iou_matrix` distance 1 − IoU for one pair, on boxes shifted by (−1, −1) as its
 * `load_motchallenge` does ("matlab convention"). Returns NaN ("do not pair") when the distance
 * exceeds MAX_IOU_DISTANCE, exactly like `np.where(dist > max_iou, np.nan, dist)`.
 */
export function motmetricsIouDistance(a: MotRow, b: MotRow): number {
  const ax = a.x - 1;
  const ay = a.y - 1;
  const bx = b.x - 1;
  const by = b.y - 1;
  const iw = Math.max(Math.min(ax + a.w, bx + b.w) - Math.max(ax, bx), 0);
  const ih = Math.max(Math.min(ay + a.h, by + b.h) - Math.max(ay, by), 0);
  const intersection = iw * ih;
  const areaA = Math.max(a.w, 0) * Math.max(a.h, 0);
  const areaB = Math.max(b.w, 0) * Math.max(b.h, 0);
  const union = areaA + areaB - intersection;
  const iou = intersection !== 0 ? intersection / union : 0;
  const distance = 1 - iou;
  return distance > MAX_IOU_DISTANCE ? Number.NaN : distance;
}

const EPS = Number.EPSILON;

/** TrackEval `_calculate_box_ious` (xywh) for one pair, unshifted boxes. */
export function trackevalIou(a: MotRow, b: MotRow): number {
  const ax1 = a.x + a.w;
  const ay1 = a.y + a.h;
  const bx1 = b.x + b.w;
  const by1 = b.y + b.h;
  let intersection = Math.max(Math.min(ax1, bx1) - Math.max(a.x, b.x), 0) * Math.max(Math.min(ay1, by1) - Math.max(a.y, b.y), 0);
  const areaA = (ax1 - a.x) * (ay1 - a.y);
  const areaB = (bx1 - b.x) * (by1 - b.y);
  let union = areaA + areaB - intersection;
  if (areaA <= EPS || areaB <= EPS || union <= EPS) intersection = 0;
  if (union <= EPS) union = 1;
  return intersection / union;
}
