/**
 * mulberry32, a small seeded PRNG returning floats in [0, 1): the same seed gives the same
 * numbers on every machine (the synthetic stream, test fixtures and benchmarks use it).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [min, max). */
  between(min: number, max: number): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
}

/** The synthetic stream's generator: mulberry32 with the seed scrambled first. */
export function seededRandom(seed: number): Random {
  const next = mulberry32(Math.floor(seed) ^ 0x9e3779b9);
  return {
    next,
    between: (min, max) => min + (max - min) * next(),
    int: (min, max) => min + Math.floor((max - min + 1) * next()),
  };
}
