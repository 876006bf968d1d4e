/**
 * A ground-truth/prediction pair prepared once for the py-motmetrics-style metrics (CLEAR,
 * identity, consistency): rows filtered by confidence like `mm.io.loadtxt(min_confidence=…)`,
 * grouped by frame, and the per-frame 1 − IoU distance matrices (NaN = may not pair).
 */
import { groupByFrame, type FrameSlice } from './frames.ts';
import { motmetricsIouDistance } from './iou.ts';
import type { MotRow } from './mot-format.ts';

/** `mm.io.loadtxt`'s default `min_confidence`: keeps every row with conf ≥ −1. */
export const DEFAULT_MIN_CONFIDENCE = -1;

export interface MotSequenceOptions {
  /**
   * Ground-truth rows with conf below this are dropped from CLEAR, identity and consistency
   * (default −1 keeps all, as `mm.io.loadtxt`; MOTChallenge's evaluator uses 1). HOTA ignores
   * it and applies TrackEval's own rule (drop rows whose conf truncates to 0).
   */
  gtMinConfidence?: number;
  /** Predicted rows with conf below this are dropped from CLEAR/identity (default −1); HOTA keeps all. */
  predMinConfidence?: number;
}

export interface MotSequence {
  gt: readonly MotRow[];
  pred: readonly MotRow[];
  frames: readonly FrameSlice[];
  /** Per frame, row-major gt × pred distances (1 − IoU), NaN where the pair may not match. */
  distances: readonly Float64Array[];
}

export function prepareSequence(gt: readonly MotRow[], pred: readonly MotRow[], options: MotSequenceOptions = {}): MotSequence {
  const gtMin = options.gtMinConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const predMin = options.predMinConfidence ?? DEFAULT_MIN_CONFIDENCE;
  const keptGt = gt.filter((row) => row.conf >= gtMin);
  const keptPred = pred.filter((row) => row.conf >= predMin);
  const frames = groupByFrame(keptGt, keptPred);
  const distances = frames.map((frame) => {
    const n = frame.gt.length;
    const m = frame.pred.length;
    const matrix = new Float64Array(n * m);
    for (let i = 0; i < n; i += 1) {
      const object = keptGt[frame.gt[i]!]!;
      for (let j = 0; j < m; j += 1) matrix[i * m + j] = motmetricsIouDistance(object, keptPred[frame.pred[j]!]!);
    }
    return matrix;
  });
  return { gt: keptGt, pred: keptPred, frames, distances };
}
