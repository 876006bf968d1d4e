import type { FeatureBank } from '../tracking/index.ts';

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += a[i]! * b[i]!;
  return sum;
}

function normalised(vector: Float32Array): Float32Array {
  const norm = Math.sqrt(dot(vector, vector));
  if (norm === 0) return vector;
  const out = new Float32Array(vector.length);
  for (let i = 0; i < vector.length; i += 1) out[i] = vector[i]! / norm;
  return out;
}

/**
 * Picks up to `limit` mutually diverse vectors (greedy farthest-point on cosine), starting from
 * the first candidate so the oldest evidence is kept.
 */
export function selectDiverse(candidates: readonly Float32Array[], limit: number): Float32Array[] {
  if (candidates.length <= limit) return [...candidates];
  const chosen: Float32Array[] = [candidates[0]!];
  const bestSimilarity = candidates.map((candidate) => dot(candidate, candidates[0]!));
  while (chosen.length < limit) {
    let pick = -1;
    let lowest = Infinity;
    for (let i = 0; i < candidates.length; i += 1) {
      if (bestSimilarity[i]! < lowest && !chosen.includes(candidates[i]!)) {
        lowest = bestSimilarity[i]!;
        pick = i;
      }
    }
    if (pick < 0) break;
    const picked = candidates[pick]!;
    chosen.push(picked);
    for (let i = 0; i < candidates.length; i += 1) bestSimilarity[i] = Math.max(bestSimilarity[i]!, dot(candidates[i]!, picked));
  }
  return chosen;
}

/**
 * Combines two banks of one horse (a merge of two registry entries, or two writers' views of
 * the same horse): `primary` keeps its first-appearance vector, the means are averaged by
 * detection count, and the exemplars are the most diverse of both.
 */
export function mergeFeatureBanks(
  primary: FeatureBank,
  primaryWeight: number,
  secondary: FeatureBank,
  secondaryWeight: number,
  maxExemplars: number,
): FeatureBank {
  const total = Math.max(primaryWeight + secondaryWeight, 1e-9);
  const wa = Math.max(primaryWeight, 0) / total;
  const wb = Math.max(secondaryWeight, 0) / total;
  const mean = new Float32Array(primary.mean.length);
  for (let i = 0; i < mean.length; i += 1) mean[i] = primary.mean[i]! * wa + secondary.mean[i]! * wb;
  return {
    first: primary.first,
    mean: normalised(mean),
    exemplars: selectDiverse([...primary.exemplars, ...secondary.exemplars], maxExemplars),
  };
}

/**
 * A bank rebuilt from a horse's sightings (a split): the oldest sighting's appearance is the first
 * appearance, the mean is weighted by each sighting's detections, the exemplars the most diverse.
 */
export function bankFromSightings(sightings: ReadonlyArray<{ appearance: Float32Array; detections: number }>, maxExemplars: number): FeatureBank {
  const dim = sightings[0]!.appearance.length;
  const mean = new Float32Array(dim);
  for (const { appearance, detections } of sightings) {
    const weight = Math.max(detections, 1);
    for (let i = 0; i < dim; i += 1) mean[i] = mean[i]! + appearance[i]! * weight;
  }
  const vectors = sightings.map((sighting) => normalised(sighting.appearance));
  return { first: vectors[0]!, mean: normalised(mean), exemplars: selectDiverse(vectors, maxExemplars) };
}
