import type { CacheMeta } from './cache-entry.ts';
import type { StoredHorse } from './types.ts';

export type CacheLoad =
  | { status: 'hit'; meta: CacheMeta; horses: StoredHorse[] }
  | { status: 'miss'; reason: 'empty' | 'too-many' | 'partial' | 'foreign' | 'stale' }
  | { status: 'corrupt'; reason: string }
  | { status: 'unavailable'; error: Error };

/**
 * The hot cache in front of the database: per-horse state entries with a TTL, a per-stream
 * recency index capped at `indexSize` horses, and stream meta. Every failure is reported as a
 * result, never thrown: the registry must keep working on the database alone.
 */
export interface HotCache {
  readonly kind: 'redis' | 'memory';
  load(streamId: string): Promise<CacheLoad>;
  /**
   * Writes these horses' states and the stream meta, atomically. With `replaceIndex` the index
   * is rebuilt from exactly these horses (a full re-warm); otherwise they are added to it.
   */
  store(streamId: string, meta: CacheMeta, horses: readonly StoredHorse[], replaceIndex: boolean): Promise<boolean>;
  /**
   * Drops horses' entries (merge, prune) and the stream meta, so the next load re-warms.
   * Returns how many horse entries were dropped, or null when the cache is unavailable.
   */
  remove(streamId: string, horseIds: readonly string[]): Promise<number | null>;
  close(): Promise<void>;
}

export const stateKey = (streamId: string, horseId: string) => `horse:${streamId}:${horseId}:state`;
export const indexKey = (streamId: string) => `horses:${streamId}:recent`;
export const metaKey = (streamId: string) => `horses:${streamId}:meta`;

export interface CacheOptions {
  ttlSeconds: number;
  indexSize: number;
}
