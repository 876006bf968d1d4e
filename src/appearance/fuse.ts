/** Fusing a deep re-ID embedding with the coat descriptor into one vector. Pure. */
import { normalizeInPlace } from '../tracking/index.ts';

/**
 * One unit vector whose cosine with another fused vector is (1 − w)·cos(deep) + w·cos(coat):
 * the two unit parts scaled by √(1 − w) and √w. A crop with no coat-like pixel (all-zero coat
 * part) is compared by its deep part alone.
 */
export function fuseAppearance(deep: Float32Array, coat: Float32Array, coatWeight: number): Float32Array {
  const fused = new Float32Array(deep.length + coat.length);
  const a = Math.sqrt(1 - coatWeight);
  const b = Math.sqrt(coatWeight);
  for (let i = 0; i < deep.length; i += 1) fused[i] = a * deep[i]!;
  for (let i = 0; i < coat.length; i += 1) fused[deep.length + i] = b * coat[i]!;
  return normalizeInPlace(fused);
}
