import { describe, expect, it } from 'vitest';
import { bankSimilarity, createFeatureBank, dot, updateFeatureBank } from '../../src/tracking/featureBank.ts';
import { HorseGallery } from '../../src/tracking/gallery.ts';
import { mulberry32 } from '../../src/synth/random.ts';
import { noisyEmbedding, randomUnitVector } from './helpers.ts';

const options = { size: 3, momentum: 0.9, noveltyMaxSimilarity: 0.9 };

describe('feature bank', () => {
  it('keeps the first appearance, moves the mean by EMA and stays unit length', () => {
    const random = mulberry32(1);
    const a = randomUnitVector(random, 32);
    const b = randomUnitVector(random, 32);
    const bank = createFeatureBank(a);
    updateFeatureBank(bank, b, options);
    expect(Array.from(bank.first)).toEqual(Array.from(a));
    expect(dot(bank.mean, bank.mean)).toBeCloseTo(1, 5);
    // mean ∝ 0.9·a + 0.1·b: much closer to a than to b.
    expect(dot(bank.mean, a)).toBeGreaterThan(0.9);
    expect(dot(bank.mean, b)).toBeLessThan(0.3);
  });

  it('adds an exemplar only when it is novel', () => {
    const random = mulberry32(2);
    const a = randomUnitVector(random, 32);
    const bank = createFeatureBank(a);
    updateFeatureBank(bank, noisyEmbedding(random, a, 0.05), options); // near-duplicate
    expect(bank.exemplars).toHaveLength(1);
    updateFeatureBank(bank, randomUnitVector(random, 32), options); // novel
    expect(bank.exemplars).toHaveLength(2);
  });

  it('caps exemplars at K and replaces the most redundant one, keeping diversity', () => {
    const random = mulberry32(3);
    const base = randomUnitVector(random, 32);
    const bank = createFeatureBank(base);
    const nearBase = noisyEmbedding(random, base, 0.6); // similar to base, but still below 0.9
    expect(dot(nearBase, base)).toBeLessThan(0.9);
    updateFeatureBank(bank, nearBase, options);
    const far = randomUnitVector(random, 32);
    updateFeatureBank(bank, far, options);
    expect(bank.exemplars).toHaveLength(3);
    const newcomer = randomUnitVector(random, 32);
    updateFeatureBank(bank, newcomer, options);
    expect(bank.exemplars).toHaveLength(3);
    // base and nearBase were the most redundant pair: one of them made room for the newcomer.
    expect(bank.exemplars.some((e) => dot(e, newcomer) > 0.999)).toBe(true);
    expect(bank.exemplars.some((e) => dot(e, far) > 0.999)).toBe(true);
    expect(Array.from(bank.first)).toEqual(Array.from(base));
  });

  it('ignores vectors of another dimension', () => {
    const bank = createFeatureBank(new Float32Array([1, 0, 0]));
    updateFeatureBank(bank, new Float32Array([0, 1]), options);
    expect(Array.from(bank.mean)).toEqual([1, 0, 0]);
    expect(bankSimilarity(bank, new Float32Array([0, 1]))).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('HorseGallery', () => {
  it('returns exactly the brute-force best cosine for every horse that can reach the threshold', () => {
    const random = mulberry32(4);
    const dim = 48;
    const banks = Array.from({ length: 60 }, () => {
      const identity = randomUnitVector(random, dim);
      const bank = createFeatureBank(noisyEmbedding(random, identity, 0.4));
      for (let i = 0; i < 10; i += 1) updateFeatureBank(bank, noisyEmbedding(random, identity, 0.8), { size: 8, momentum: 0.9, noveltyMaxSimilarity: 0.8 });
      return bank;
    });
    const gallery = new HorseGallery(banks, dim);
    const out = new Float64Array(banks.length);
    for (let trial = 0; trial < 40; trial += 1) {
      const target = banks[trial % banks.length]!;
      const query = trial % 2 === 0 ? noisyEmbedding(random, target.mean, 0.7) : randomUnitVector(random, dim);
      for (const threshold of [Number.NEGATIVE_INFINITY, 0, 0.5, 0.75]) {
        gallery.similarities(query, threshold, out);
        banks.forEach((bank, h) => {
          const exact = bankSimilarity(bank, query);
          if (exact >= threshold + 1e-5) expect(out[h]).toBeCloseTo(exact, 5);
          else if (exact < threshold - 1e-5) expect(out[h]).toBe(Number.NEGATIVE_INFINITY);
        });
      }
    }
  });

  it('skips ineligible horses and banks of another dimension', () => {
    const a = createFeatureBank(new Float32Array([1, 0, 0]));
    const b = createFeatureBank(new Float32Array([0, 1]));
    const c = createFeatureBank(new Float32Array([0, 0, 1]));
    const gallery = new HorseGallery([a, b, c], 3);
    const out = new Float64Array(3);
    gallery.similarities(new Float32Array([1, 0, 0]), Number.NEGATIVE_INFINITY, out, new Uint8Array([1, 1, 0]));
    expect(out[0]).toBeCloseTo(1, 6);
    expect(out[1]).toBe(Number.NEGATIVE_INFINITY);
    expect(out[2]).toBe(Number.NEGATIVE_INFINITY);
  });
});

describe('feature bank exemplar cache', () => {
  /** Reference: the same rules with every pairwise similarity recomputed (no cache). */
  function referenceUpdate(exemplars: Float32Array[], vector: Float32Array, size: number, novelty: number): void {
    let nearest = Number.NEGATIVE_INFINITY;
    for (const e of exemplars) nearest = Math.max(nearest, dot(e, vector));
    if (nearest >= novelty) return;
    if (exemplars.length < size) {
      exemplars.push(Float32Array.from(vector));
      return;
    }
    let worst = -1;
    let redundancy = Number.NEGATIVE_INFINITY;
    exemplars.forEach((a, i) => {
      let closest = Number.NEGATIVE_INFINITY;
      exemplars.forEach((b, j) => {
        if (i !== j) closest = Math.max(closest, dot(a, b));
      });
      if (closest > redundancy) {
        redundancy = closest;
        worst = i;
      }
    });
    if (worst >= 0 && redundancy > nearest) exemplars[worst] = Float32Array.from(vector);
  }

  it('chooses exactly the exemplars a from-scratch computation would, over many updates', () => {
    const random = mulberry32(12);
    const identity = randomUnitVector(random, 24);
    const bank = createFeatureBank(identity);
    const reference = [Float32Array.from(bank.exemplars[0]!)];
    for (let i = 0; i < 300; i += 1) {
      const vector = noisyEmbedding(random, identity, 0.3 + (i % 5) * 0.2);
      updateFeatureBank(bank, vector, { size: 5, momentum: 0.9, noveltyMaxSimilarity: 0.85 });
      referenceUpdate(reference, vector, 5, 0.85);
      if (i === 150) bank.exemplars.splice(0, 1); // an outside edit: the cache must notice
      if (i === 150) reference.splice(0, 1);
      expect(bank.exemplars.map((e) => Array.from(e))).toEqual(reference.map((e) => Array.from(e)));
    }
  });
});
