/**
 * CLEAR-MOT the way py-motmetrics computes it (`MOTAccumulator.update` + `metrics.py`), frame by
 * frame over a prepared sequence:
 *  1. an object matched to hypothesis h in the previous visited frame keeps h if h is present and
 *     the pair is still allowed (1 − IoU ≤ 0.5);
 *  2. the remaining objects and hypotheses get a minimum-cost assignment on 1 − IoU (scipy's
 *     `linear_sum_assignment`, forbidden pairs replaced by a large finite cost, those pairs then
 *     dropped); a match whose object was last matched to a different hypothesis is a SWITCH;
 *  3. unmatched objects are misses, unmatched hypotheses false positives.
 * TrackEval's CLEAR matches on a different score (IoU plus a bonus for the previous partner), so
 * its MOTA/IDSW can differ slightly; these numbers are py-motmetrics'.
 */
import { linearSumAssignment } from '../tracking/index.ts';
import type { MotSequence } from './sequence.ts';

export interface ClearMetrics {
  /** 1 − (misses + switches + false positives) / objects; NaN or −Infinity without objects. */
  mota: number;
  /** py-motmetrics `motp`: mean 1 − IoU over matched pairs (lower is better). */
  motpDistance: number;
  /** MOTChallenge MOTP: 1 − motpDistance, the mean IoU of matched pairs (higher is better). */
  motpIou: number;
  idSwitches: number;
  falsePositives: number;
  falseNegatives: number;
  fragmentations: number;
  mostlyTracked: number;
  partiallyTracked: number;
  mostlyLost: number;
  /** MATCH events only (py-motmetrics `num_matches`, switches excluded). */
  numMatches: number;
  /** Matches plus switches (py-motmetrics `num_detections`). */
  numDetections: number;
  /** Ground-truth rows evaluated. */
  numObjects: number;
  /** Predicted rows evaluated. */
  numPredictions: number;
  numUniqueObjects: number;
  numFrames: number;
  precision: number;
  recall: number;
}

export interface ClearResult {
  metrics: ClearMetrics;
  /** For each ground-truth ID: predicted ID → number of frames it was the matched partner. */
  partners: Map<number, Map<number, number>>;
}

/** Per ground-truth object: its track-state bookkeeping across frames. */
interface ObjectState {
  /** Last matched hypothesis ID (py-motmetrics `m[o]`), or null if never matched. */
  partner: number | null;
  /** Matched in the previous visited frame. */
  matchedPrevious: boolean;
  frames: number;
  tracked: number;
  /** 0 never tracked yet, 1 last event tracked, 2 missing since a tracked event. */
  run: 0 | 1 | 2;
  fragmentations: number;
}

export function computeClear(sequence: MotSequence): ClearResult {
  const { gt, pred, frames, distances } = sequence;
  const objects = new Map<number, ObjectState>();
  const partners = new Map<number, Map<number, number>>();
  let matches = 0;
  let switches = 0;
  let misses = 0;
  let falsePositives = 0;
  let distanceSum = 0;
  let matchedNow: ObjectState[] = [];
  let matchedBefore: ObjectState[] = [];

  const stateOf = (id: number): ObjectState => {
    let state = objects.get(id);
    if (state === undefined) {
      state = { partner: null, matchedPrevious: false, frames: 0, tracked: 0, run: 0, fragmentations: 0 };
      objects.set(id, state);
    }
    return state;
  };
  const recordMatch = (state: ObjectState, objectId: number, hypothesisId: number, distance: number): void => {
    state.partner = hypothesisId;
    state.tracked += 1;
    if (state.run === 2) state.fragmentations += 1;
    state.run = 1;
    distanceSum += distance;
    matchedNow.push(state);
    let byPred = partners.get(objectId);
    if (byPred === undefined) {
      byPred = new Map();
      partners.set(objectId, byPred);
    }
    byPred.set(hypothesisId, (byPred.get(hypothesisId) ?? 0) + 1);
  };

  for (let f = 0; f < frames.length; f += 1) {
    const frame = frames[f]!;
    const dist = distances[f]!;
    const n = frame.gt.length;
    const m = frame.pred.length;
    const rowDone = new Uint8Array(n);
    const colDone = new Uint8Array(m);
    const states = frame.gt.map((index) => stateOf(gt[index]!.id));
    for (const state of states) state.frames += 1;

    if (n > 0 && m > 0) {
      // 1. Keep last frame's pairs that are still present and allowed.
      for (let i = 0; i < n; i += 1) {
        const state = states[i]!;
        if (!state.matchedPrevious || state.partner === null) continue;
        const j = frame.pred.findIndex((index, column) => colDone[column] === 0 && pred[index]!.id === state.partner);
        if (j < 0) continue;
        const d = dist[i * m + j]!;
        if (Number.isNaN(d)) continue;
        rowDone[i] = 1;
        colDone[j] = 1;
        matches += 1;
        recordMatch(state, gt[frame.gt[i]!]!.id, state.partner, d);
      }
      // 2. Minimum-cost assignment on the rest.
      const rowToCol = assignRemaining(dist, n, m, rowDone, colDone);
      for (let i = 0; i < n; i += 1) {
        const j = rowToCol === null ? -1 : rowToCol[i]!;
        if (j < 0) continue;
        const state = states[i]!;
        const hypothesisId = pred[frame.pred[j]!]!.id;
        if (state.partner !== null && state.partner !== hypothesisId) switches += 1;
        else matches += 1;
        rowDone[i] = 1;
        colDone[j] = 1;
        recordMatch(state, gt[frame.gt[i]!]!.id, hypothesisId, dist[i * m + j]!);
      }
    }
    // 3. Misses and false positives.
    for (let i = 0; i < n; i += 1) {
      if (rowDone[i] === 1) continue;
      misses += 1;
      const state = states[i]!;
      if (state.run === 1) state.run = 2;
    }
    for (let j = 0; j < m; j += 1) if (colDone[j] === 0) falsePositives += 1;

    for (const state of matchedBefore) state.matchedPrevious = false;
    for (const state of matchedNow) state.matchedPrevious = true;
    [matchedBefore, matchedNow] = [matchedNow, matchedBefore];
    matchedNow.length = 0;
  }

  let mostlyTracked = 0;
  let partiallyTracked = 0;
  let mostlyLost = 0;
  let fragmentations = 0;
  for (const state of objects.values()) {
    const ratio = state.tracked / state.frames;
    if (ratio >= 0.8) mostlyTracked += 1;
    else if (ratio >= 0.2) partiallyTracked += 1;
    else mostlyLost += 1;
    fragmentations += state.fragmentations;
  }
  const numObjects = gt.length;
  const numPredictions = pred.length;
  const numDetections = matches + switches;
  const motpDistance = distanceSum / numDetections;
  return {
    metrics: {
      mota: 1 - (misses + switches + falsePositives) / numObjects,
      motpDistance,
      motpIou: 1 - motpDistance,
      idSwitches: switches,
      falsePositives,
      falseNegatives: misses,
      fragmentations,
      mostlyTracked,
      partiallyTracked,
      mostlyLost,
      numMatches: matches,
      numDetections,
      numObjects,
      numPredictions,
      numUniqueObjects: objects.size,
      numFrames: frames.length,
      precision: numDetections / (falsePositives + numDetections),
      recall: numDetections / numObjects,
    },
    partners,
  };
}

/**
 * py-motmetrics' `_linear_sum_assignment`: pairs that are forbidden (NaN) or already taken get
 * cost 2·min(n, m)·(max|finite cost| + 1) + 1, so scipy's solver first maximises the number of
 * allowed pairs, then minimises their cost; the forbidden pairs it still returns are dropped.
 * Returns null when no pair is allowed.
 */
function assignRemaining(dist: Float64Array, n: number, m: number, rowDone: Uint8Array, colDone: Uint8Array): Int32Array | null {
  const cost = new Float64Array(n * m);
  const allowed = new Uint8Array(n * m);
  let allowedCount = 0;
  let maxAbs = 0;
  for (let i = 0; i < n; i += 1) {
    if (rowDone[i] === 1) continue;
    for (let j = 0; j < m; j += 1) {
      const d = dist[i * m + j]!;
      if (colDone[j] === 1 || Number.isNaN(d)) continue;
      allowed[i * m + j] = 1;
      cost[i * m + j] = d;
      allowedCount += 1;
      if (Math.abs(d) > maxAbs) maxAbs = Math.abs(d);
    }
  }
  if (allowedCount === 0) return null;
  if (allowedCount < n * m) {
    const forbidden = 2 * Math.min(n, m) * (maxAbs + 1) + 1;
    for (let k = 0; k < n * m; k += 1) if (allowed[k] === 0) cost[k] = forbidden;
  }
  const rowToCol = linearSumAssignment(cost, n, m);
  for (let i = 0; i < n; i += 1) {
    const j = rowToCol[i]!;
    if (j >= 0 && allowed[i * m + j] === 0) rowToCol[i] = -1;
  }
  return rowToCol;
}
