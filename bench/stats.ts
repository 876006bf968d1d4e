/** Nearest-rank percentile of samples (unsorted input is fine). */
export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export interface Summary {
  label: string;
  n: number;
  p50: number;
  p99: number;
  mean: number;
}

export function summarize(label: string, samplesMs: number[]): Summary {
  const mean = samplesMs.reduce((sum, value) => sum + value, 0) / Math.max(1, samplesMs.length);
  const summary = { label, n: samplesMs.length, p50: percentile(samplesMs, 50), p99: percentile(samplesMs, 99), mean };
  console.log(
    `${label.padEnd(48)} n=${String(summary.n).padStart(5)}  p50=${summary.p50.toFixed(3).padStart(9)} ms  p99=${summary.p99
      .toFixed(3)
      .padStart(9)} ms  mean=${summary.mean.toFixed(3).padStart(9)} ms`,
  );
  return summary;
}

/** Times `fn` `iterations` times after `warmup` untimed runs; returns milliseconds per call. */
export async function timeIt(fn: () => unknown, iterations: number, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i += 1) await fn();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i += 1) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}
