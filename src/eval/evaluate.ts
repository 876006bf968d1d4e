/**
 * All MOT metrics for one ground-truth/prediction pair. Pure: rows in, numbers out.
 * CLEAR-MOT and identity follow py-motmetrics; HOTA follows TrackEval (see each module).
 */
import { computeClear, type ClearMetrics } from './clear.ts';
import { consistencyFromPartners, type IdConsistency } from './consistency.ts';
import { hotaMetrics, type HotaMetrics } from './hota.ts';
import { computeIdentity, type IdentityMetrics } from './identity.ts';
import type { MotRow } from './mot-format.ts';
import { prepareSequence, type MotSequenceOptions } from './sequence.ts';

export type EvaluateOptions = MotSequenceOptions;

export interface MotMetrics {
  clear: ClearMetrics;
  identity: IdentityMetrics;
  hota: HotaMetrics;
  idConsistency: IdConsistency;
}

export function evaluateMot(gt: readonly MotRow[], pred: readonly MotRow[], options: EvaluateOptions = {}): MotMetrics {
  const sequence = prepareSequence(gt, pred, options);
  const clear = computeClear(sequence);
  return {
    clear: clear.metrics,
    identity: computeIdentity(sequence),
    hota: hotaMetrics(gt, pred),
    idConsistency: consistencyFromPartners(clear.partners, new Set(sequence.gt.map((row) => row.id)).size),
  };
}
