/**
 * Cross-chunk ID consistency: does each horse keep one predicted ID over the whole stream
 * (across chunk boundaries and restarts)? Uses the CLEAR per-frame matching (previous partners
 * kept, then minimum-cost assignment at IoU ≥ 0.5). A ground-truth ID is consistent when every
 * frame in which it was matched maps to the same single predicted ID. Ground-truth IDs that were
 * never matched say nothing about identity: they are left out of the ratio and counted apart
 * (`unmatchedGtIds`); their misses show up in MOTA/recall instead.
 */
import { computeClear } from './clear.ts';
import type { MotRow } from './mot-format.ts';
import { prepareSequence, type MotSequenceOptions } from './sequence.ts';

export interface InconsistentGtId {
  gtId: number;
  /** Predicted IDs it was matched to, with the number of frames each, most frames first. */
  predIds: { predId: number; frames: number }[];
}

export interface IdConsistency {
  /** consistentGtIds / (consistentGtIds + inconsistentGtIds); NaN when no GT ID was matched. */
  ratio: number;
  consistentGtIds: number;
  inconsistentGtIds: number;
  /** GT IDs present but never matched (excluded from the ratio). */
  unmatchedGtIds: number;
  inconsistent: InconsistentGtId[];
}

export function crossChunkConsistency(gt: readonly MotRow[], pred: readonly MotRow[], options: MotSequenceOptions = {}): IdConsistency {
  const sequence = prepareSequence(gt, pred, options);
  const allGtIds = new Set(sequence.gt.map((row) => row.id));
  return consistencyFromPartners(computeClear(sequence).partners, allGtIds.size);
}

export function consistencyFromPartners(partners: ReadonlyMap<number, ReadonlyMap<number, number>>, numGtIds: number): IdConsistency {
  let consistent = 0;
  const inconsistent: InconsistentGtId[] = [];
  for (const [gtId, byPred] of partners) {
    if (byPred.size === 1) {
      consistent += 1;
      continue;
    }
    const predIds = [...byPred].map(([predId, frames]) => ({ predId, frames })).sort((a, b) => b.frames - a.frames || a.predId - b.predId);
    inconsistent.push({ gtId, predIds });
  }
  inconsistent.sort((a, b) => a.gtId - b.gtId);
  const judged = consistent + inconsistent.length;
  return {
    ratio: consistent / judged,
    consistentGtIds: consistent,
    inconsistentGtIds: inconsistent.length,
    unmatchedGtIds: numGtIds - judged,
    inconsistent,
  };
}
