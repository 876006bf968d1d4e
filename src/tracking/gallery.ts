/**
 * The known horses' appearance, packed for fast "best cosine over the bank" queries.
 *
 * All bank vectors (first, mean, exemplars) of all horses live in one contiguous Float32Array;
 * per horse we also keep a unit centroid c and the angular radius θ of its bank around c
 * (cos θ = the smallest cosine between c and any of its vectors). For a query q at angle φ from
 * c, every bank vector is within θ of c, so by the triangle inequality on the sphere
 *   best cosine(q, bank) ≤ cos(max(0, φ − θ)).
 * A query first takes one dot product per horse with the centroids; only horses whose bound can
 * reach the threshold get their full bank scanned. The answer is exact, not approximate.
 *
 * Why no ANN index (HNSW, IVF): a per-stream registry holds tens to a few thousand horses.
 * At 1,000 horses × 512-d the centroid pass is ~0.5 M multiply-adds (well under a millisecond in
 * plain JS) and, because identities are decided at a high similarity threshold, the full-bank
 * pass touches only the few plausible horses. An ANN index would add build/update cost on every
 * registry change, approximate recall (a missed true match creates a duplicate horse, which is
 * the expensive error here) and a native dependency, to save well under a millisecond per
 * decision. It starts paying off around 10^5–10^6 horses per gallery or thousands of decisions
 * per second — a cross-stream search service, not this per-stream decision.
 */
import { dot } from './featureBank.ts';
import type { FeatureBank } from './types.ts';

/** Slack on the pruning bound for float32 rounding, so pruning never drops a true match. */
const BOUND_SLACK = 1e-4;

export class HorseGallery {
  readonly dim: number;
  readonly count: number;
  private readonly vectors: Float32Array;
  /** Horse h owns vector rows rowStart[h] … rowStart[h + 1] − 1. */
  private readonly rowStart: Int32Array;
  private readonly centroids: Float32Array;
  /** Angular radius θ of each horse's bank around its centroid (radians). */
  private readonly radius: Float64Array;
  private readonly query: Float32Array;
  private readonly limits: Float64Array;
  private limitsThreshold = Number.NaN;

  /** Banks whose dimension differs from `dim` are stored empty and never match. */
  constructor(banks: readonly FeatureBank[], dim: number) {
    this.dim = dim;
    this.count = banks.length;
    this.rowStart = new Int32Array(banks.length + 1);
    let rows = 0;
    for (let h = 0; h < banks.length; h += 1) {
      this.rowStart[h] = rows;
      const bank = banks[h]!;
      if (bank.mean.length === dim) rows += 2 + bank.exemplars.length;
    }
    this.rowStart[banks.length] = rows;
    this.vectors = new Float32Array(rows * dim);
    this.centroids = new Float32Array(banks.length * dim);
    this.radius = new Float64Array(banks.length).fill(Number.NaN);
    this.query = new Float32Array(dim);
    this.limits = new Float64Array(banks.length);

    for (let h = 0; h < banks.length; h += 1) {
      const bank = banks[h]!;
      if (bank.mean.length !== dim) continue;
      let row = this.rowStart[h]!;
      for (const vector of [bank.first, bank.mean, ...bank.exemplars]) {
        this.writeUnit(vector, this.vectors, row * dim);
        row += 1;
      }
      this.fitCentroid(h);
    }
  }

  /**
   * For every horse with `eligible[h] === 1` (all when omitted), writes into `out[h]` its best
   * cosine with `query`, exactly, when that can reach `threshold`; otherwise −Infinity. Pass
   * threshold −Infinity for exact similarities of all eligible horses.
   */
  similarities(query: Float32Array, threshold: number, out: Float64Array, eligible?: Uint8Array): void {
    const dim = this.dim;
    out.fill(Number.NEGATIVE_INFINITY, 0, this.count);
    if (query.length !== dim) return;
    this.writeUnit(query, this.query, 0);
    const q = this.query;
    const prune = threshold > -1;
    const minCosToCentroid = prune ? this.centroidLimits(threshold) : null;
    for (let h = 0; h < this.count; h += 1) {
      if (eligible !== undefined && eligible[h] !== 1) continue;
      if (Number.isNaN(this.radius[h]!)) continue;
      // Upper bound on the best cosine is cos(max(0, φ − θ)); it reaches the threshold only if
      // φ ≤ acos(threshold) + θ, i.e. cos φ ≥ cos(acos(threshold) + θ).
      if (minCosToCentroid !== null && dotAt(this.centroids, h * dim, q, dim) < minCosToCentroid[h]!) continue;
      let best = Number.NEGATIVE_INFINITY;
      for (let row = this.rowStart[h]!; row < this.rowStart[h + 1]!; row += 1) {
        const similarity = dotAt(this.vectors, row * dim, q, dim);
        if (similarity > best) best = similarity;
      }
      if (best >= threshold) out[h] = best;
    }
  }

  /** Per horse, the least cosine to its centroid that can still reach `threshold` (cached per threshold). */
  private centroidLimits(threshold: number): Float64Array {
    if (this.limitsThreshold === threshold) return this.limits;
    const minAngle = Math.acos(Math.min(1, threshold));
    for (let h = 0; h < this.count; h += 1) {
      const angle = minAngle + this.radius[h]! + BOUND_SLACK;
      this.limits[h] = angle >= Math.PI ? Number.NEGATIVE_INFINITY : Math.cos(angle);
    }
    this.limitsThreshold = threshold;
    return this.limits;
  }

  private fitCentroid(h: number): void {
    const dim = this.dim;
    const offset = h * dim;
    const first = this.rowStart[h]!;
    const end = this.rowStart[h + 1]!;
    for (let row = first; row < end; row += 1) {
      for (let i = 0; i < dim; i += 1) this.centroids[offset + i] = this.centroids[offset + i]! + this.vectors[row * dim + i]!;
    }
    let norm = 0;
    for (let i = 0; i < dim; i += 1) norm += this.centroids[offset + i]! ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) {
      // Degenerate bank (vectors cancel out): no useful centroid, so never prune this horse.
      this.radius[h] = Math.PI;
      return;
    }
    for (let i = 0; i < dim; i += 1) this.centroids[offset + i] = this.centroids[offset + i]! / norm;
    let minCos = 1;
    for (let row = first; row < end; row += 1) {
      minCos = Math.min(minCos, dotAtBoth(this.centroids, offset, this.vectors, row * dim, dim));
    }
    this.radius[h] = Math.acos(Math.max(-1, Math.min(1, minCos)));
  }

  private writeUnit(vector: Float32Array, target: Float32Array, offset: number): void {
    const norm = Math.sqrt(dot(vector, vector));
    const scale = norm > 0 ? 1 / norm : 0;
    for (let i = 0; i < this.dim; i += 1) target[offset + i] = vector[i]! * scale;
  }
}

function dotAt(matrix: Float32Array, offset: number, q: Float32Array, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < dim; i += 4) {
    s0 += matrix[offset + i]! * q[i]!;
    s1 += matrix[offset + i + 1]! * q[i + 1]!;
    s2 += matrix[offset + i + 2]! * q[i + 2]!;
    s3 += matrix[offset + i + 3]! * q[i + 3]!;
  }
  for (; i < dim; i += 1) s0 += matrix[offset + i]! * q[i]!;
  return s0 + s1 + s2 + s3;
}

function dotAtBoth(a: Float32Array, aOffset: number, b: Float32Array, bOffset: number, dim: number): number {
  let sum = 0;
  for (let i = 0; i < dim; i += 1) sum += a[aOffset + i]! * b[bOffset + i]!;
  return sum;
}
