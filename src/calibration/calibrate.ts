/**
 * Calibration: model-dependent tracker settings from a labelled clip. Pure: samples in,
 * settings and a report out (`paddock calibrate` does the decoding and inference).
 *
 * - Detector: the scores it gives boxes a person drew (true boxes, matched at IoU ≥ 0.5). Detections
 *   are trusted for the first association stage and new tracks from their 10th percentile, and
 *   teach appearance from their lower quartile.
 * - Appearance: pairs of true boxes of the same horse and of different horses, at most
 *   PAIR_WINDOW_FRAMES sampled frames apart (what association compares). For each coat weight
 *   the ROC AUC of the fused similarity; the weight below 1 with the best AUC wins (ties: the
 *   lighter coat; the coat alone cannot tell two horses of one colour apart), and the similarity that best separates the two groups (highest balanced accuracy)
 *   becomes the re-ID threshold and the appearance gate.
 */
import { fuseAppearance } from '../appearance/index.ts';
import type { ModelTrackingSettings } from '../inference/index.ts';

/** One true box seen by the detector: its score, deep embedding and coat descriptor. */
export interface CalibrationSample {
  horseId: number;
  /** Position among the sampled frames. */
  frame: number;
  score: number;
  deep: Float32Array;
  coat: Float32Array;
}

export const COAT_WEIGHTS = [0, 0.25, 0.5, 0.75, 1] as const;
export const PAIR_WINDOW_FRAMES = 10;

export interface CueSeparation {
  coatWeight: number;
  auc: number;
  samePairs: number;
  differentPairs: number;
  /** Similarity quantiles of same-horse pairs (p10, p50) and different-horse pairs (p50, p90). */
  same: { p10: number; p50: number };
  different: { p50: number; p90: number };
  /** The similarity with the best balanced accuracy, and that accuracy. */
  threshold: number;
  balancedAccuracy: number;
}

export interface CalibrationResult {
  samples: number;
  horses: number;
  scores: { p10: number; p50: number; p90: number };
  /** One entry per coat weight (0 = the deep embedding alone, 1 = the coat alone). */
  cues: CueSeparation[];
  chosen: CueSeparation;
  detectorTracking: ModelTrackingSettings;
  reidTracking: ModelTrackingSettings;
  appearance: { coatWeight: number };
}

export function calibrate(samples: readonly CalibrationSample[]): CalibrationResult {
  const horses = new Set(samples.map((sample) => sample.horseId));
  if (samples.length < 4 || horses.size < 2) {
    throw new Error(`calibration needs true boxes of at least 2 horses (got ${samples.length} boxes of ${horses.size})`);
  }
  const scores = samples.map((sample) => sample.score).sort((a, b) => a - b);
  const cues = COAT_WEIGHTS.map((weight) => separation(samples, weight));
  // The coat alone is reported, never chosen: it cannot tell two horses of one colour apart.
  const usable = cues.filter((cue) => cue.coatWeight < 1 && cue.samePairs > 0 && cue.differentPairs > 0);
  if (usable.length === 0) throw new Error('calibration found no pair of different horses within a few frames of each other');
  const chosen = usable.reduce((best, cue) => (cue.auc > best.auc + 1e-9 ? cue : best));
  const trackScore = round(clamp(quantile(scores, 0.1), 0.05, 0.9));
  const distance = round(clamp(1 - chosen.threshold, 0.05, 1));
  return {
    samples: samples.length,
    horses: horses.size,
    scores: { p10: quantile(scores, 0.1), p50: quantile(scores, 0.5), p90: quantile(scores, 0.9) },
    cues,
    chosen,
    detectorTracking: {
      highScore: trackScore,
      newTrackScore: trackScore,
      occludedReportMinScore: trackScore,
      bankMinScore: round(clamp(quantile(scores, 0.25), trackScore, 0.95)),
    },
    reidTracking: {
      reidSimilarity: round(clamp(chosen.threshold, 0.3, 0.98)),
      refindSimilarity: round(clamp(chosen.threshold, 0.3, 0.98)),
      maxAppearanceDistance: distance,
      maxOverlapAppearanceDistance: round(Math.min(1, distance + 0.1)),
    },
    appearance: { coatWeight: chosen.coatWeight },
  };
}

function separation(samples: readonly CalibrationSample[], coatWeight: number): CueSeparation {
  const vectors = samples.map((sample) => (coatWeight === 0 ? sample.deep : coatWeight === 1 ? sample.coat : fuseAppearance(sample.deep, sample.coat, coatWeight)));
  const same: number[] = [];
  const different: number[] = [];
  for (let i = 0; i < samples.length; i += 1) {
    for (let j = i + 1; j < samples.length; j += 1) {
      if (Math.abs(samples[i]!.frame - samples[j]!.frame) > PAIR_WINDOW_FRAMES) continue;
      const similarity = dot(vectors[i]!, vectors[j]!);
      (samples[i]!.horseId === samples[j]!.horseId ? same : different).push(similarity);
    }
  }
  same.sort((a, b) => a - b);
  different.sort((a, b) => a - b);
  const { threshold, balancedAccuracy } = bestThreshold(same, different);
  return {
    coatWeight,
    auc: rocAuc(same, different),
    samePairs: same.length,
    differentPairs: different.length,
    same: { p10: quantile(same, 0.1), p50: quantile(same, 0.5) },
    different: { p50: quantile(different, 0.5), p90: quantile(different, 0.9) },
    threshold,
    balancedAccuracy,
  };
}

/** Probability that a same-horse pair scores above a different-horse pair (ties count half); inputs sorted. */
export function rocAuc(same: readonly number[], different: readonly number[]): number {
  if (same.length === 0 || different.length === 0) return Number.NaN;
  let wins = 0;
  let below = 0;
  let ties = 0;
  for (const value of same) {
    while (below < different.length && different[below]! < value) below += 1;
    ties = 0;
    while (below + ties < different.length && different[below + ties] === value) ties += 1;
    wins += below + ties / 2;
  }
  return wins / (same.length * different.length);
}

/** The cut between the two sorted groups with the highest balanced accuracy (same ≥ cut, different < cut). */
function bestThreshold(same: readonly number[], different: readonly number[]): { threshold: number; balancedAccuracy: number } {
  if (same.length === 0 || different.length === 0) return { threshold: Number.NaN, balancedAccuracy: Number.NaN };
  const candidates = [...same, ...different].sort((a, b) => a - b);
  let best = { threshold: candidates[0]!, balancedAccuracy: -1 };
  let s = 0;
  let d = 0;
  for (const cut of candidates) {
    while (s < same.length && same[s]! < cut) s += 1;
    while (d < different.length && different[d]! < cut) d += 1;
    const accuracy = ((same.length - s) / same.length + d / different.length) / 2;
    if (accuracy > best.balancedAccuracy) best = { threshold: cut, balancedAccuracy: accuracy };
  }
  return best;
}

function quantile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(p * (sorted.length - 1))))]!;
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i]! * b[i]!;
  return sum;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round(value: number): number {
  return Number(value.toFixed(2));
}
