// Apart from index.ts so that the pipeline can use it without loading prom-client.
import type { ChunkTimings } from './names.ts';

/**
 * The registry overhead of one chunk, as the contract defines it: the time spent on the
 * persistent registry (loading it, matching against it, thumbnails, persisting) as a share of
 * the chunk's total time.
 */
export function overheadRatio(timings: ChunkTimings, registryMatchMs = 0): number {
  if (!(timings.total > 0)) return 0;
  return (timings.load_registry + registryMatchMs + timings.thumbnails + timings.persist) / timings.total;
}
