/**
 * Small hand-checked sequences: every expected number below is worked out in the comments from
 * the py-motmetrics (CLEAR, identity) and TrackEval (HOTA) definitions.
 */
import { describe, expect, it } from 'vitest';
import { crossChunkConsistency, evaluateMot, identityMetrics, type MotRow } from '../../src/eval/index.ts';
import { row } from './helpers.ts';

/** Object A at x=0 and B at x=100, frames 1..n, 10×10 boxes. */
function twoObjects(frames: number): MotRow[] {
  const rows: MotRow[] = [];
  for (let f = 1; f <= frames; f += 1) rows.push(row(f, 1, 0, 0), row(f, 2, 100, 0));
  return rows;
}

describe('evaluateMot on hand-checked cases', () => {
  it('perfect tracking scores 1 everywhere', () => {
    const gt = twoObjects(3);
    const pred = gt.map((r) => ({ ...r, id: r.id + 10, conf: 0.5 }));
    const { clear, identity, hota, idConsistency } = evaluateMot(gt, pred);
    expect(clear).toMatchObject({ mota: 1, motpDistance: 0, motpIou: 1, idSwitches: 0, falsePositives: 0, falseNegatives: 0 });
    expect(clear).toMatchObject({ mostlyTracked: 2, partiallyTracked: 0, mostlyLost: 0, fragmentations: 0, numFrames: 3 });
    expect(identity).toEqual({ idf1: 1, idp: 1, idr: 1, idtp: 6, idfp: 0, idfn: 0 });
    expect([hota.hota, hota.detA, hota.assA, hota.locA]).toEqual([1, 1, 1, 1]);
    expect(idConsistency).toMatchObject({ ratio: 1, consistentGtIds: 2, unmatchedGtIds: 0 });
  });

  it('IDs that swap: two switches, IDF1 1/2, HOTA √(1/3)', () => {
    const gt = twoObjects(4);
    // Frames 1-2: pred 1 on A, 2 on B; frames 3-4 swapped.
    const pred = gt.map((r) => ({ ...r, id: r.frame <= 2 ? r.id : 3 - r.id }));
    const { clear, identity, hota, idConsistency } = evaluateMot(gt, pred);
    // Frame 3: A's partner 1 now sits on B (IoU 0), so both get new partners: 2 switches.
    expect(clear).toMatchObject({ idSwitches: 2, numMatches: 6, falsePositives: 0, falseNegatives: 0, mota: 0.75 });
    // Each (gt, pred) pair overlaps in 2 frames; the best one-to-one pairing keeps 4 of 8.
    expect(identity).toEqual({ idf1: 0.5, idp: 0.5, idr: 0.5, idtp: 4, idfp: 4, idfn: 4 });
    // Every pair: 2 matches, 4 + 4 detections → Jaccard 2/6; AssA = Σ 2·(1/3) / 8 = 1/3, DetA = 1.
    expect(hota.detA).toBe(1);
    expect(hota.assA).toBeCloseTo(1 / 3, 12);
    expect(hota.hota).toBeCloseTo(Math.sqrt(1 / 3), 12);
    expect(idConsistency).toMatchObject({ ratio: 0, consistentGtIds: 0, inconsistentGtIds: 2 });
  });

  it('a track split in two: one switch, IDF1 1/2, HOTA √(1/2)', () => {
    const gt: MotRow[] = [];
    const pred: MotRow[] = [];
    for (let f = 1; f <= 10; f += 1) {
      gt.push(row(f, 7, 0, 0));
      pred.push(row(f, f <= 5 ? 1 : 2, 0, 0));
    }
    const { clear, identity, hota, idConsistency } = evaluateMot(gt, pred);
    expect(clear).toMatchObject({ idSwitches: 1, numMatches: 9, mota: 0.9, fragmentations: 0, mostlyTracked: 1 });
    expect(identity).toEqual({ idf1: 0.5, idp: 0.5, idr: 0.5, idtp: 5, idfp: 5, idfn: 5 });
    // Pair Jaccard 5 / (10 + 5 − 5) = 1/2 for both halves → AssA 1/2.
    expect(hota.assA).toBeCloseTo(0.5, 12);
    expect(hota.hota).toBeCloseTo(Math.SQRT1_2, 12);
    expect(idConsistency.inconsistent).toEqual([{ gtId: 7, predIds: [{ predId: 1, frames: 5 }, { predId: 2, frames: 5 }] }]);
  });

  it('keeps last frame\'s partner while allowed, and only last frame\'s', () => {
    const near = 20 / 110; // 1 − IoU of two 10×10 boxes shifted by 1 px: 1 − 90/110
    const gt = [row(1, 1, 0, 0), row(2, 1, 0, 0), row(3, 1, 0, 0), row(4, 1, 0, 0)];
    const pred = [
      row(1, 1, 0, 0),
      // Frame 2: pred 2 fits better, but pred 1 was A's partner in frame 1 and still fits → kept.
      row(2, 1, 1, 0),
      row(2, 2, 0, 0),
      // Frame 3: nothing → A missed.
      // Frame 4: A was not matched in frame 3, so the assignment picks the closer pred 2 → switch.
      row(4, 1, 1, 0),
      row(4, 2, 0, 0),
    ];
    const { clear } = evaluateMot(gt, pred);
    expect(clear).toMatchObject({ numMatches: 2, idSwitches: 1, falsePositives: 2, falseNegatives: 1, fragmentations: 1, mota: 0 });
    expect(clear).toMatchObject({ mostlyTracked: 0, partiallyTracked: 1, mostlyLost: 0, numFrames: 4 });
    expect(clear.motpDistance).toBeCloseTo(near / 3, 14);
  });

  it('a frame missing from both files is skipped; a prediction-only frame is not', () => {
    const gt = [row(1, 1, 0, 0), row(3, 1, 0, 0)];
    const pred = [row(1, 1, 0, 0), row(3, 1, 1, 0), row(3, 2, 0, 0)];
    // Frame 2 exists nowhere: frame 1 is "the previous frame" of frame 3, so A keeps pred 1.
    const skipped = evaluateMot(gt, pred).clear;
    expect(skipped).toMatchObject({ numFrames: 2, idSwitches: 0, numMatches: 2, falsePositives: 1 });
    // A prediction-only frame 2 is visited: A is unmatched there, so frame 3 re-assigns to pred 2.
    const visited = evaluateMot(gt, [...pred, row(2, 9, 300, 300)]).clear;
    expect(visited).toMatchObject({ numFrames: 3, idSwitches: 1, numMatches: 1, falsePositives: 2, falseNegatives: 0 });
  });

  it('pairs at exactly IoU 0.5 and not below', () => {
    const gt = [row(1, 1, 0, 0), row(2, 1, 0, 0)];
    const pred = [row(1, 5, 0, 0, 10, 5), row(2, 5, 0, 0, 10, 4.9)];
    const { clear, identity } = evaluateMot(gt, pred);
    expect(clear).toMatchObject({ numMatches: 1, falseNegatives: 1, falsePositives: 1, motpDistance: 0.5 });
    expect(identity.idtp).toBe(1);
  });

  it('ground-truth and prediction IDs are independent name spaces (same numbers, different objects)', () => {
    const gt = [row(1, 1, 0, 0), row(1, 2, 100, 0)];
    const pred = [row(1, 2, 0, 0), row(1, 1, 100, 0)];
    expect(evaluateMot(gt, pred).clear).toMatchObject({ mota: 1, idSwitches: 0 });
  });
});

describe('evaluateMot edge cases', () => {
  it('both files empty: nothing to divide by', () => {
    const { clear, identity, hota, idConsistency } = evaluateMot([], []);
    expect(clear).toMatchObject({ numFrames: 0, numObjects: 0, falsePositives: 0, falseNegatives: 0 });
    expect(clear.mota).toBeNaN();
    expect(clear.motpDistance).toBeNaN();
    expect(identity.idf1).toBeNaN();
    expect([hota.hota, hota.detA, hota.assA, hota.locA]).toEqual([0, 0, 0, 1]);
    expect(idConsistency.ratio).toBeNaN();
  });

  it('no predictions: every object missed', () => {
    const { clear, identity, hota, idConsistency } = evaluateMot(twoObjects(2), []);
    expect(clear).toMatchObject({ mota: 0, falseNegatives: 4, recall: 0, mostlyLost: 2, fragmentations: 0 });
    expect(identity).toMatchObject({ idf1: 0, idtp: 0, idfn: 4, idfp: 0, idr: 0 });
    expect(identity.idp).toBeNaN();
    expect(hota.perAlpha.fn[0]).toBe(4);
    expect([hota.hota, hota.locA]).toEqual([0, 1]);
    expect(idConsistency).toMatchObject({ consistentGtIds: 0, inconsistentGtIds: 0, unmatchedGtIds: 2 });
  });

  it('no ground truth: every prediction a false positive, MOTA −∞ as in py-motmetrics', () => {
    const { clear, identity, hota } = evaluateMot([], [row(1, 1, 0, 0), row(2, 1, 0, 0), row(2, 2, 50, 0)]);
    expect(clear).toMatchObject({ falsePositives: 3, precision: 0, numFrames: 2 });
    expect(clear.mota).toBe(Number.NEGATIVE_INFINITY);
    expect(identity).toMatchObject({ idf1: 0, idp: 0, idfp: 3 });
    expect(hota.perAlpha.fp[0]).toBe(3);
  });

  it('refuses rows that repeat an ID within a frame', () => {
    expect(() => evaluateMot([row(1, 1, 0, 0), row(1, 1, 5, 5)], [])).toThrow(/ground truth: id 1 appears more than once in frame 1/);
  });
});

describe('the conf column', () => {
  it('keeps every row by default like mm.io.loadtxt; gtMinConfidence 1 drops unmarked ground truth like the MOTChallenge evaluator', () => {
    const gt = [row(1, 1, 0, 0), row(2, 1, 0, 0, 10, 10, 0)];
    const pred = [row(1, 4, 0, 0)];
    expect(evaluateMot(gt, pred).clear).toMatchObject({ numObjects: 2, falseNegatives: 1, mota: 0.5 });
    expect(evaluateMot(gt, pred, { gtMinConfidence: 1 }).clear).toMatchObject({ numObjects: 1, falseNegatives: 0, mota: 1 });
    // TrackEval (HOTA) always drops ground truth whose conf truncates to 0.
    expect(evaluateMot(gt, pred).hota.detA).toBe(1);
  });

  it('ignores prediction confidence except below −1 (py-motmetrics drops those; TrackEval keeps them)', () => {
    const gt = [row(1, 1, 0, 0), row(2, 1, 0, 0)];
    const pred = [row(1, 4, 0, 0, 10, 10, -2), row(2, 4, 0, 0, 10, 10, 0.01)];
    const { clear, hota } = evaluateMot(gt, pred);
    expect(clear).toMatchObject({ numPredictions: 1, numMatches: 1, falseNegatives: 1, mota: 0.5 });
    expect(hota.detA).toBe(1);
  });
});

describe('identityMetrics and crossChunkConsistency on their own', () => {
  it('identityMetrics applies the same confidence options', () => {
    const gt = [row(1, 1, 0, 0, 10, 10, 0), row(2, 1, 0, 0)];
    const pred = [row(1, 3, 0, 0), row(2, 3, 0, 0)];
    expect(identityMetrics(gt, pred).idf1).toBe(1);
    expect(identityMetrics(gt, pred, { gtMinConfidence: 1 })).toMatchObject({ idtp: 1, idfp: 1, idfn: 0 });
  });

  it('counts a GT ID consistent when all its matched frames share one predicted ID; unmatched GT IDs are excluded', () => {
    const gt: MotRow[] = [];
    const pred: MotRow[] = [];
    for (let f = 1; f <= 6; f += 1) {
      gt.push(row(f, 1, 0, 0), row(f, 2, 100, 0), row(f, 3, 200, 0));
      // Horse 1 keeps ID 10 across a "chunk boundary" with a miss in frame 3; horse 2 is re-identified
      // as 21 from frame 4; horse 3 is never found.
      if (f !== 3) pred.push(row(f, 10, 0, 0));
      pred.push(row(f, f <= 3 ? 20 : 21, 100, 0));
    }
    expect(crossChunkConsistency(gt, pred)).toEqual({
      ratio: 0.5,
      consistentGtIds: 1,
      inconsistentGtIds: 1,
      unmatchedGtIds: 1,
      inconsistent: [{ gtId: 2, predIds: [{ predId: 20, frames: 3 }, { predId: 21, frames: 3 }] }],
    });
  });
});
