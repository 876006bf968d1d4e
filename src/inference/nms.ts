/**
 * Greedy non-maximum suppression, class-agnostic: candidates of every class compete with
 * each other, so one animal seen as both "horse" and (say) "cow" by two horse-class ids
 * comes out once, as its best-scoring class. Pure, no I/O.
 */

/** A decoded box in model-input pixels (corners), before mapping back to the frame. */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
}

export function iou(a: Candidate, b: Candidate): number {
  const width = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const height = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (width <= 0 || height <= 0) return 0;
  const intersection = width * height;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - intersection;
  return union > 0 ? intersection / union : 0;
}

/** Keeps the best box of every overlapping group (IoU > threshold), highest score first. */
export function nonMaxSuppression(candidates: readonly Candidate[], iouThreshold: number, maxDetections = 100): Candidate[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: Candidate[] = [];
  for (const candidate of sorted) {
    if (kept.length >= maxDetections) break;
    let suppressed = false;
    for (const winner of kept) {
      if (iou(candidate, winner) > iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(candidate);
  }
  return kept;
}
