/**
 * The registry decision: which horse is a newly confirmed track?
 *
 * Candidates are horses not visible right now, in two groups: known horses untouched so far in
 * this chunk (scored through the packed HorseGallery) and horses already handled in this chunk
 * (scored from their live feature banks). The match is one optimal assignment over all pending
 * tracks at once (cost 1 − similarity, pairs below the threshold forbidden), so one horse is
 * claimed by at most one track and a better-matching track is never pre-empted by an earlier one.
 */
import { linearSumAssignment } from './assignment.ts';
import { bankSimilarity } from './featureBank.ts';
import type { HorseGallery } from './gallery.ts';
import type { FeatureBank } from './types.ts';

export type IdentityMatch =
  | { source: 'known'; index: number; similarity: number }
  | { source: 'live'; index: number; similarity: number }
  | null;

export interface IdentityQuery {
  /** One unit vector per track needing an identity. */
  queries: readonly Float32Array[];
  gallery: HorseGallery | null;
  /** 1 where the gallery's horse is a candidate. */
  galleryEligible: Uint8Array | null;
  /** Feature banks of the candidate horses handled earlier in this chunk. */
  liveBanks: readonly FeatureBank[];
  /** Minimum similarity for a match; −Infinity to assign to the best candidate regardless (herd mode). */
  threshold: number;
  /** False where query q may not be this candidate (e.g. the track was seen beside that horse). */
  allowed?: (query: number, source: 'known' | 'live', index: number) => boolean;
}

/** Returns, per query, the horse it claims (or null). Deterministic; ties go to the lower index. */
export function matchIdentities(input: IdentityQuery, scratch: Float64Array | null = null): IdentityMatch[] {
  const { queries, gallery, galleryEligible, liveBanks, threshold } = input;
  const allowed = input.allowed ?? (() => true);
  const k = queries.length;
  if (k === 0) return [];
  const galleryCount = gallery?.count ?? 0;
  const similarities = scratch !== null && scratch.length >= galleryCount ? scratch : new Float64Array(galleryCount);

  // Sparse candidate columns: (source, index) pairs that at least one query can reach.
  const columnOf = new Map<number, number>(); // key: known index ≥ 0, live index as −(i + 1)
  const columns: { source: 'known' | 'live'; index: number }[] = [];
  const entries: { query: number; column: number; similarity: number }[] = [];
  const addEntry = (query: number, key: number, source: 'known' | 'live', index: number, similarity: number): void => {
    let column = columnOf.get(key);
    if (column === undefined) {
      column = columns.length;
      columnOf.set(key, column);
      columns.push({ source, index });
    }
    entries.push({ query, column, similarity });
  };

  for (let q = 0; q < k; q += 1) {
    const query = queries[q]!;
    if (gallery !== null && galleryCount > 0) {
      gallery.similarities(query, threshold, similarities, galleryEligible ?? undefined);
      for (let h = 0; h < galleryCount; h += 1) {
        const similarity = similarities[h]!;
        if (similarity !== Number.NEGATIVE_INFINITY && similarity >= threshold && allowed(q, 'known', h)) addEntry(q, h, 'known', h, similarity);
      }
    }
    for (let i = 0; i < liveBanks.length; i += 1) {
      const similarity = bankSimilarity(liveBanks[i]!, query);
      if (similarity !== Number.NEGATIVE_INFINITY && similarity >= threshold && allowed(q, 'live', i)) addEntry(q, -(i + 1), 'live', i, similarity);
    }
  }

  const matches: IdentityMatch[] = new Array<IdentityMatch>(k).fill(null);
  const m = columns.length;
  if (m === 0) return matches;
  const cost = new Float64Array(k * m).fill(Number.POSITIVE_INFINITY);
  const similarityAt = new Float64Array(k * m);
  for (const entry of entries) {
    cost[entry.query * m + entry.column] = 1 - entry.similarity;
    similarityAt[entry.query * m + entry.column] = entry.similarity;
  }
  const rowToCol = linearSumAssignment(cost, k, m);
  for (let q = 0; q < k; q += 1) {
    const column = rowToCol[q]!;
    if (column < 0) continue;
    const target = columns[column]!;
    matches[q] = { source: target.source, index: target.index, similarity: similarityAt[q * m + column]! };
  }
  return matches;
}
