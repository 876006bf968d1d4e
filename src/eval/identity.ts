/**
 * Identity metrics (Ristani et al. 2016) as py-motmetrics computes them: a pair (ground-truth
 * ID, predicted ID) earns one true positive for every frame in which both are present with
 * 1 − IoU ≤ 0.5, whatever the per-frame CLEAR matching did; the IDs are then paired one-to-one
 * globally to maximise those true positives (IDTP). IDFN = objects − IDTP, IDFP = predictions −
 * IDTP, IDF1 = 2·IDTP / (objects + predictions). The optimum IDTP is unique, so solver tie-breaks
 * cannot change these numbers.
 */
import { linearSumAssignment } from '../tracking/index.ts';
import { denseIds } from './frames.ts';
import type { MotRow } from './mot-format.ts';
import { prepareSequence, type MotSequence, type MotSequenceOptions } from './sequence.ts';

export interface IdentityMetrics {
  idf1: number;
  idp: number;
  idr: number;
  idtp: number;
  idfp: number;
  idfn: number;
}

/** IDF1/IDP/IDR alone (for benchmarks that need nothing else). Pure. */
export function identityMetrics(gt: readonly MotRow[], pred: readonly MotRow[], options: MotSequenceOptions = {}): IdentityMetrics {
  return computeIdentity(prepareSequence(gt, pred, options));
}

export function computeIdentity(sequence: MotSequence): IdentityMetrics {
  const { gt, pred, frames, distances } = sequence;
  const gtIndex = denseIds(gt);
  const predIndex = denseIds(pred);
  const numPredIds = predIndex.size;
  // (gt id index, pred id index) → frames in which the pair may match.
  const pairFrames = new Map<number, number>();
  for (let f = 0; f < frames.length; f += 1) {
    const frame = frames[f]!;
    const dist = distances[f]!;
    const m = frame.pred.length;
    for (let i = 0; i < frame.gt.length; i += 1) {
      const row = gtIndex.get(gt[frame.gt[i]!]!.id)! * numPredIds;
      for (let j = 0; j < m; j += 1) {
        if (Number.isNaN(dist[i * m + j]!)) continue;
        const key = row + predIndex.get(pred[frame.pred[j]!]!.id)!;
        pairFrames.set(key, (pairFrames.get(key) ?? 0) + 1);
      }
    }
  }
  const idtp = maxWeightMatching(pairFrames, numPredIds);
  const numObjects = gt.length;
  const numPredictions = pred.length;
  const idfn = numObjects - idtp;
  const idfp = numPredictions - idtp;
  return {
    idf1: (2 * idtp) / (numObjects + numPredictions),
    idp: idtp / (idtp + idfp),
    idr: idtp / (idtp + idfn),
    idtp,
    idfp,
    idfn,
  };
}

/** Maximum total weight of a one-to-one pairing; only IDs with some overlap take part. */
function maxWeightMatching(weights: Map<number, number>, numCols: number): number {
  if (weights.size === 0) return 0;
  const rowOf = new Map<number, number>();
  const colOf = new Map<number, number>();
  let maxWeight = 0;
  for (const [key, weight] of weights) {
    const r = Math.floor(key / numCols);
    const c = key - r * numCols;
    if (!rowOf.has(r)) rowOf.set(r, rowOf.size);
    if (!colOf.has(c)) colOf.set(c, colOf.size);
    if (weight > maxWeight) maxWeight = weight;
  }
  const rows = rowOf.size;
  const cols = colOf.size;
  // Every assignment pairs min(rows, cols) IDs, so minimising Σ(max − w) maximises Σ w.
  const cost = new Float64Array(rows * cols).fill(maxWeight);
  for (const [key, weight] of weights) {
    const r = Math.floor(key / numCols);
    cost[rowOf.get(r)! * cols + colOf.get(key - r * numCols)!] = maxWeight - weight;
  }
  const rowToCol = linearSumAssignment(cost, rows, cols);
  let total = 0;
  for (let r = 0; r < rows; r += 1) {
    const c = rowToCol[r]!;
    if (c >= 0) total += maxWeight - cost[r * cols + c]!;
  }
  return total;
}
