import { CorruptCacheEntry, parseHorseState, parseMeta, serializeHorseState, serializeMeta, type CacheMeta } from './cache-entry.ts';
import { indexKey, metaKey, stateKey, type CacheLoad, type CacheOptions, type HotCache } from './hot-cache.ts';
import type { StoredHorse } from './types.ts';

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * The in-process cache used when no REDIS_URL is set. It keeps the same keys, serialised
 * entries, TTL and index cap as Redis, so both behave alike.
 */
export class MemoryHotCache implements HotCache {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly indexes = new Map<string, { members: Map<string, number>; expiresAt: number }>();

  constructor(
    private readonly options: CacheOptions,
    private readonly now: () => number = Date.now,
  ) {}

  private get(key: string): string | null {
    const entry = this.entries.get(key);
    if (entry === undefined) return null;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return null;
    }
    return entry.value;
  }

  private set(key: string, value: string): void {
    this.entries.set(key, { value, expiresAt: this.now() + this.options.ttlSeconds * 1000 });
  }

  private recentMembers(streamId: string): string[] {
    const index = this.indexes.get(indexKey(streamId));
    if (index === undefined || index.expiresAt <= this.now()) return [];
    return [...index.members.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
  }

  async load(streamId: string): Promise<CacheLoad> {
    const metaText = this.get(metaKey(streamId));
    if (metaText === null) return { status: 'miss', reason: 'empty' };
    try {
      const meta = parseMeta(metaText);
      if (meta.liveCount > this.options.indexSize) return { status: 'miss', reason: 'too-many' };
      const members = this.recentMembers(streamId);
      if (members.length !== meta.liveCount) return { status: 'miss', reason: 'partial' };
      const horses: StoredHorse[] = [];
      for (const id of members) {
        const text = this.get(stateKey(streamId, id));
        if (text === null) return { status: 'miss', reason: 'partial' };
        horses.push(parseHorseState(text, id));
      }
      return { status: 'hit', meta, horses };
    } catch (error) {
      if (error instanceof CorruptCacheEntry) return { status: 'corrupt', reason: error.message };
      throw error;
    }
  }

  async store(streamId: string, meta: CacheMeta, horses: readonly StoredHorse[], replaceIndex: boolean): Promise<boolean> {
    const key = indexKey(streamId);
    const existing = this.indexes.get(key);
    const members = replaceIndex || existing === undefined || existing.expiresAt <= this.now() ? new Map<string, number>() : existing.members;
    for (const horse of horses) {
      this.set(stateKey(streamId, horse.id), serializeHorseState(horse));
      members.set(horse.id, horse.lastSeen.getTime());
    }
    const kept = [...members.entries()].sort((a, b) => b[1] - a[1]).slice(0, this.options.indexSize);
    this.indexes.set(key, { members: new Map(kept), expiresAt: this.now() + this.options.ttlSeconds * 1000 });
    this.set(metaKey(streamId), serializeMeta(meta));
    return true;
  }

  async remove(streamId: string, horseIds: readonly string[]): Promise<number | null> {
    this.entries.delete(metaKey(streamId));
    const index = this.indexes.get(indexKey(streamId));
    let dropped = 0;
    for (const id of horseIds) {
      if (this.get(stateKey(streamId, id)) !== null) dropped += 1;
      this.entries.delete(stateKey(streamId, id));
      index?.members.delete(id);
    }
    return dropped;
  }

  /** Test hook: overwrite a raw entry, as a broken writer might. */
  putRaw(key: string, value: string): void {
    this.set(key, value);
  }

  async close(): Promise<void> {
    this.entries.clear();
    this.indexes.clear();
  }
}
