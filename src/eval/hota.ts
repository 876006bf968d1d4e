/**
 * HOTA (Luiten et al. 2020) as TrackEval's `metrics/hota.py` computes it on MOTChallenge 2D boxes
 * (`datasets/mot_challenge_2d_box.py`, MOT15 rules: ground-truth rows whose conf truncates to 0
 * are dropped, every predicted row is kept; IoU by `_calculate_box_ious`).
 *
 * Per frame, gt and predicted detections are paired by a maximum-score assignment on
 * IoU × global alignment score of their IDs; for each α in 0.05, 0.10 … 0.95 a pair counts
 * when IoU ≥ α − ε. DetA, AssA, LocA and HOTA = √(DetA·AssA) are computed per α; the summary
 * values are their means over α, as TrackEval reports them.
 */
import { linearSumAssignment } from '../tracking/index.ts';
import { denseIds, groupByFrame } from './frames.ts';
import { trackevalIou } from './iou.ts';
import type { MotRow } from './mot-format.ts';

/** `np.arange(0.05, 0.99, 0.05)`: the same 19 doubles numpy produces. */
export const HOTA_ALPHAS: readonly number[] = Array.from({ length: 19 }, (_, i) => 0.05 + i * 0.05);

const EPS = Number.EPSILON;

export interface HotaPerAlpha {
  hota: number[];
  detA: number[];
  assA: number[];
  detRe: number[];
  detPr: number[];
  assRe: number[];
  assPr: number[];
  locA: number[];
  tp: number[];
  fn: number[];
  fp: number[];
}

export interface HotaMetrics {
  /** Means over α of the per-α values. */
  hota: number;
  detA: number;
  assA: number;
  locA: number;
  detRe: number;
  detPr: number;
  assRe: number;
  assPr: number;
  /** HOTA and LocA at α = 0.05 (TrackEval's HOTA(0), LocA(0)). */
  hota0: number;
  locA0: number;
  perAlpha: HotaPerAlpha;
}

interface MatchedPair {
  gt: number;
  pred: number;
  similarity: number;
}

export function hotaMetrics(gtRows: readonly MotRow[], predRows: readonly MotRow[]): HotaMetrics {
  const gt = gtRows.filter((row) => Math.trunc(row.conf) !== 0);
  const pred = predRows;
  const alphas = HOTA_ALPHAS.length;
  const tp = new Array<number>(alphas).fill(0);
  const fn = new Array<number>(alphas).fill(0);
  const fp = new Array<number>(alphas).fill(0);
  const locSum = new Array<number>(alphas).fill(0);

  if (pred.length === 0 || gt.length === 0) {
    // TrackEval returns early: only the unmatched side is counted, LocA = 1.
    const zeros = new Array<number>(alphas).fill(0);
    if (pred.length === 0) fn.fill(gt.length);
    else fp.fill(pred.length);
    return summarise(finalFields(tp, fn, fp, [...zeros], [...zeros], [...zeros], new Array<number>(alphas).fill(1)));
  }

  const frames = groupByFrame(gt, pred);
  const gtIndex = denseIds(gt);
  const predIndex = denseIds(pred);
  const numPredIds = predIndex.size;
  const gtIdCount = new Float64Array(gtIndex.size);
  const predIdCount = new Float64Array(numPredIds);
  const potentialMatches = new Map<number, number>();

  // Pass 1: similarities and the soft (IoU-normalised) co-occurrence of every ID pair.
  const similarities = frames.map((frame) => {
    const n = frame.gt.length;
    const m = frame.pred.length;
    const sim = new Float64Array(n * m);
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < m; j += 1) sim[i * m + j] = trackevalIou(gt[frame.gt[i]!]!, pred[frame.pred[j]!]!);
    }
    return sim;
  });
  frames.forEach((frame, f) => {
    const n = frame.gt.length;
    const m = frame.pred.length;
    const gtIds = frame.gt.map((index) => gtIndex.get(gt[index]!.id)!);
    const predIds = frame.pred.map((index) => predIndex.get(pred[index]!.id)!);
    const sim = similarities[f]!;
    const rowSum = new Float64Array(n);
    const colSum = new Float64Array(m);
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < m; j += 1) {
        rowSum[i] = rowSum[i]! + sim[i * m + j]!;
        colSum[j] = colSum[j]! + sim[i * m + j]!;
      }
    }
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < m; j += 1) {
        const s = sim[i * m + j]!;
        const denominator = colSum[j]! + rowSum[i]! - s;
        if (!(denominator > 0 + EPS)) continue;
        const key = gtIds[i]! * numPredIds + predIds[j]!;
        potentialMatches.set(key, (potentialMatches.get(key) ?? 0) + s / denominator);
      }
    }
    for (const id of gtIds) gtIdCount[id] = gtIdCount[id]! + 1;
    for (const id of predIds) predIdCount[id] = predIdCount[id]! + 1;
  });
  const alignment = (gtId: number, predId: number): number => {
    const potential = potentialMatches.get(gtId * numPredIds + predId) ?? 0;
    return potential / (gtIdCount[gtId]! + predIdCount[predId]! - potential);
  };

  // Pass 2: per-frame maximum-score matching, then per-α counts.
  const matched: MatchedPair[] = [];
  frames.forEach((frame, f) => {
    const n = frame.gt.length;
    const m = frame.pred.length;
    if (n === 0 || m === 0) {
      for (let a = 0; a < alphas; a += 1) {
        fp[a]! += m;
        fn[a]! += n;
      }
      return;
    }
    const gtIds = frame.gt.map((index) => gtIndex.get(gt[index]!.id)!);
    const predIds = frame.pred.map((index) => predIndex.get(pred[index]!.id)!);
    const sim = similarities[f]!;
    const negatedScore = new Float64Array(n * m);
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < m; j += 1) negatedScore[i * m + j] = -(alignment(gtIds[i]!, predIds[j]!) * sim[i * m + j]!);
    }
    const rowToCol = linearSumAssignment(negatedScore, n, m);
    const pairs: MatchedPair[] = [];
    for (let i = 0; i < n; i += 1) {
      const j = rowToCol[i]!;
      if (j >= 0) pairs.push({ gt: gtIds[i]!, pred: predIds[j]!, similarity: sim[i * m + j]! });
    }
    for (let a = 0; a < alphas; a += 1) {
      const threshold = HOTA_ALPHAS[a]! - EPS;
      let count = 0;
      let loc = 0;
      for (const pair of pairs) {
        if (pair.similarity >= threshold) {
          count += 1;
          loc += pair.similarity;
        }
      }
      tp[a]! += count;
      fn[a]! += n - count;
      fp[a]! += m - count;
      if (count > 0) locSum[a]! += loc;
    }
    matched.push(...pairs);
  });

  const assA: number[] = [];
  const assRe: number[] = [];
  const assPr: number[] = [];
  const locA: number[] = [];
  for (let a = 0; a < alphas; a += 1) {
    const threshold = HOTA_ALPHAS[a]! - EPS;
    const matchCounts = new Map<number, number>();
    for (const pair of matched) {
      if (pair.similarity < threshold) continue;
      const key = pair.gt * numPredIds + pair.pred;
      matchCounts.set(key, (matchCounts.get(key) ?? 0) + 1);
    }
    let sumA = 0;
    let sumRe = 0;
    let sumPr = 0;
    for (const [key, count] of matchCounts) {
      const gtId = Math.floor(key / numPredIds);
      const gtCount = gtIdCount[gtId]!;
      const predCount = predIdCount[key - gtId * numPredIds]!;
      sumA += count * (count / Math.max(1, gtCount + predCount - count));
      sumRe += count * (count / Math.max(1, gtCount));
      sumPr += count * (count / Math.max(1, predCount));
    }
    const tpA = Math.max(1, tp[a]!);
    assA.push(sumA / tpA);
    assRe.push(sumRe / tpA);
    assPr.push(sumPr / tpA);
    locA.push(Math.max(1e-10, locSum[a]!) / Math.max(1e-10, tp[a]!));
  }
  return summarise(finalFields(tp, fn, fp, assA, assRe, assPr, locA));
}

/**
 * Combines per-sequence HOTA results the way TrackEval's `combine_sequences` does: TP/FN/FP
 * summed, AssA/AssRe/AssPr and LocA averaged weighted by each sequence's TP, then DetA/HOTA
 * recomputed per α.
 */
export function combineHota(parts: readonly HotaMetrics[]): HotaMetrics {
  const alphas = HOTA_ALPHAS.length;
  const sumOver = (pick: (part: HotaPerAlpha, a: number) => number): number[] =>
    Array.from({ length: alphas }, (_, a) => parts.reduce((sum, part) => sum + pick(part.perAlpha, a), 0));
  const tp = sumOver((p, a) => p.tp[a]!);
  const fn = sumOver((p, a) => p.fn[a]!);
  const fp = sumOver((p, a) => p.fp[a]!);
  const weighted = (field: 'assA' | 'assRe' | 'assPr'): number[] =>
    sumOver((p, a) => p[field][a]! * p.tp[a]!).map((sum, a) => sum / Math.max(1, tp[a]!));
  const locA = sumOver((p, a) => p.locA[a]! * p.tp[a]!).map((sum, a) => Math.max(1e-10, sum) / Math.max(1e-10, tp[a]!));
  return summarise(finalFields(tp, fn, fp, weighted('assA'), weighted('assRe'), weighted('assPr'), locA));
}

/** TrackEval `_compute_final_fields`: the values that follow from the counts and AssA. */
function finalFields(
  tp: number[], fn: number[], fp: number[], assA: number[], assRe: number[], assPr: number[], locA: number[],
): HotaPerAlpha {
  const detRe = tp.map((t, a) => t / Math.max(1, t + fn[a]!));
  const detPr = tp.map((t, a) => t / Math.max(1, t + fp[a]!));
  const detA = tp.map((t, a) => t / Math.max(1, t + fn[a]! + fp[a]!));
  const hota = detA.map((d, a) => Math.sqrt(d * assA[a]!));
  return { hota, detA, assA, detRe, detPr, assRe, assPr, locA, tp, fn, fp };
}

function summarise(perAlpha: HotaPerAlpha): HotaMetrics {
  const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
  return {
    hota: mean(perAlpha.hota),
    detA: mean(perAlpha.detA),
    assA: mean(perAlpha.assA),
    locA: mean(perAlpha.locA),
    detRe: mean(perAlpha.detRe),
    detPr: mean(perAlpha.detPr),
    assRe: mean(perAlpha.assRe),
    assPr: mean(perAlpha.assPr),
    hota0: perAlpha.hota[0]!,
    locA0: perAlpha.locA[0]!,
    perAlpha,
  };
}
