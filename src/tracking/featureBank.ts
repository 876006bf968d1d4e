/**
 * Feature bank rules: the first appearance is kept as is, the mean is an exponential moving
 * average (renormalised), and up to `size` exemplars are kept as diverse as possible.
 * Callers decide *whether* an observation may update a bank (confident and unoccluded); this
 * module decides *how*.
 */
import type { FeatureBank } from './types.ts';

export interface FeatureBankOptions {
  /** Exemplars kept at most (K). */
  size: number;
  /** Weight of the old mean in the EMA: mean ← normalise(m·mean + (1−m)·v). */
  momentum: number;
  /** A vector becomes an exemplar only if its best cosine to the current exemplars is below this. */
  noveltyMaxSimilarity: number;
}

export const DEFAULT_FEATURE_BANK_OPTIONS: FeatureBankOptions = { size: 8, momentum: 0.9, noveltyMaxSimilarity: 0.9 };

export function dot(a: Float32Array, b: Float32Array): number {
  const n = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < n; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < n; i += 1) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/** Scales `vector` to unit length in place (a zero vector stays zero). */
export function normalizeInPlace(vector: Float32Array): Float32Array {
  const norm = Math.sqrt(dot(vector, vector));
  if (norm > 0) for (let i = 0; i < vector.length; i += 1) vector[i] = vector[i]! / norm;
  return vector;
}

export function createFeatureBank(vector: Float32Array): FeatureBank {
  const unit = normalizeInPlace(Float32Array.from(vector));
  return { first: unit, mean: Float32Array.from(unit), exemplars: [Float32Array.from(unit)] };
}

export function cloneFeatureBank(bank: FeatureBank): FeatureBank {
  return {
    first: Float32Array.from(bank.first),
    mean: Float32Array.from(bank.mean),
    exemplars: bank.exemplars.map((exemplar) => Float32Array.from(exemplar)),
  };
}

/** Best cosine between `query` (unit) and any vector of the bank (first, mean, exemplars). */
export function bankSimilarity(bank: FeatureBank, query: Float32Array): number {
  if (bank.mean.length !== query.length) return Number.NEGATIVE_INFINITY;
  let best = Math.max(dot(bank.first, query), dot(bank.mean, query));
  for (const exemplar of bank.exemplars) {
    const similarity = dot(exemplar, query);
    if (similarity > best) best = similarity;
  }
  return best;
}

/**
 * Adds one observation (a unit vector of the bank's dimension) to the bank, in place:
 * the mean moves by EMA; the vector becomes an exemplar only when it is novel (best cosine to
 * the exemplars below `noveltyMaxSimilarity`). With a full bank, a novel vector replaces the
 * most redundant exemplar (the one most similar to another exemplar) — only if that exemplar is
 * more redundant than the new vector would be, so diversity never decreases.
 */
export function updateFeatureBank(bank: FeatureBank, vector: Float32Array, options: FeatureBankOptions = DEFAULT_FEATURE_BANK_OPTIONS): void {
  if (vector.length !== bank.mean.length) return;
  const keep = options.momentum;
  for (let i = 0; i < bank.mean.length; i += 1) bank.mean[i] = keep * bank.mean[i]! + (1 - keep) * vector[i]!;
  normalizeInPlace(bank.mean);

  const count = bank.exemplars.length;
  const toNew = new Float64Array(count);
  let nearest = Number.NEGATIVE_INFINITY;
  for (let e = 0; e < count; e += 1) {
    toNew[e] = dot(bank.exemplars[e]!, vector);
    nearest = Math.max(nearest, toNew[e]!);
  }
  if (nearest >= options.noveltyMaxSimilarity) return;

  const pairwise = exemplarSimilarities(bank);
  if (count < options.size) {
    bank.exemplars.push(Float32Array.from(vector));
    pairwise.grow(toNew);
    pairwise.adopt(bank.exemplars);
    return;
  }
  let mostRedundant = -1;
  let redundancy = Number.NEGATIVE_INFINITY;
  for (let a = 0; a < count; a += 1) {
    let closest = Number.NEGATIVE_INFINITY;
    for (let b = 0; b < count; b += 1) if (a !== b) closest = Math.max(closest, pairwise.at(a, b));
    if (closest > redundancy) {
      redundancy = closest;
      mostRedundant = a;
    }
  }
  if (mostRedundant >= 0 && redundancy > nearest) {
    bank.exemplars[mostRedundant] = Float32Array.from(vector);
    pairwise.replace(mostRedundant, toNew);
    pairwise.adopt(bank.exemplars);
  }
}

/**
 * Pairwise cosines between a bank's exemplars, cached beside the bank (banks are plain data) so
 * a full bank's "most redundant exemplar" costs K dot products per update instead of K².
 * The cache remembers which exemplar arrays it describes and rebuilds itself when they differ.
 */
class ExemplarSimilarities {
  private members: Float32Array[] = [];
  private values: number[][] = [];

  sync(exemplars: Float32Array[]): this {
    const fresh = exemplars.length === this.members.length && exemplars.every((e, i) => e === this.members[i]);
    if (!fresh) {
      this.members = [...exemplars];
      this.values = exemplars.map((a) => exemplars.map((b) => dot(a, b)));
    }
    return this;
  }

  at(a: number, b: number): number {
    return this.values[a]![b]!;
  }

  grow(toNew: Float64Array): void {
    this.values.forEach((row, i) => row.push(toNew[i]!));
    this.values.push([...Array.from(toNew), 1]);
  }

  replace(index: number, toNew: Float64Array): void {
    for (let i = 0; i < this.values.length; i += 1) {
      const similarity = i === index ? 1 : toNew[i]!;
      this.values[i]![index] = similarity;
      this.values[index]![i] = similarity;
    }
  }

  /** Call after the bank's exemplar list changed as described by grow/replace. */
  adopt(exemplars: Float32Array[]): void {
    this.members = [...exemplars];
  }
}

const similarityCache = new WeakMap<FeatureBank, ExemplarSimilarities>();

function exemplarSimilarities(bank: FeatureBank): ExemplarSimilarities {
  let cache = similarityCache.get(bank);
  if (cache === undefined) {
    cache = new ExemplarSimilarities();
    similarityCache.set(bank, cache);
  }
  return cache.sync(bank.exemplars);
}
