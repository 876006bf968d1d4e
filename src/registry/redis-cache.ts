import { Redis } from 'ioredis';
import type { Logger } from '../log/index.ts';
import { CorruptCacheEntry, parseHorseState, parseMeta, serializeHorseState, serializeMeta, type CacheMeta } from './cache-entry.ts';
import { indexKey, metaKey, stateKey, type CacheLoad, type CacheOptions, type HotCache } from './hot-cache.ts';
import type { StoredHorse } from './types.ts';

/**
 * Redis hot cache. Loading a stream reads the meta and the recency index, then the states by
 * MGET: two round trips, no KEYS/SCAN. Writes go through MULTI/EXEC.
 */
export class RedisHotCache implements HotCache {
  readonly kind = 'redis' as const;
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly options: CacheOptions,
    private readonly logger: Logger,
  ) {
    // Fail fast while Redis is down instead of queueing commands: the database serves loads.
    this.redis = new Redis(url, {
      lazyConnect: false,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(attempt * 200, 5000),
    });
    this.redis.on('error', (error: Error) => this.logger.debug({ err: error.message }, 'redis connection error'));
  }

  async load(streamId: string): Promise<CacheLoad> {
    let metaText: string | null;
    let members: string[];
    try {
      const results = await this.redis.multi().get(metaKey(streamId)).zrevrange(indexKey(streamId), 0, this.options.indexSize - 1).exec();
      if (results === null) return { status: 'unavailable', error: new Error('redis transaction aborted') };
      const [metaResult, indexResult] = results;
      if (metaResult?.[0]) throw metaResult[0];
      if (indexResult?.[0]) throw indexResult[0];
      metaText = metaResult?.[1] as string | null;
      members = (indexResult?.[1] as string[] | undefined) ?? [];
    } catch (error) {
      return { status: 'unavailable', error: error as Error };
    }
    if (metaText === null) return { status: 'miss', reason: 'empty' };
    try {
      const meta = parseMeta(metaText);
      if (meta.liveCount > this.options.indexSize) return { status: 'miss', reason: 'too-many' };
      if (members.length !== meta.liveCount) return { status: 'miss', reason: 'partial' };
      if (members.length === 0) return { status: 'hit', meta, horses: [] };
      let states: Array<string | null>;
      try {
        states = await this.redis.mget(members.map((id) => stateKey(streamId, id)));
      } catch (error) {
        return { status: 'unavailable', error: error as Error };
      }
      const horses: StoredHorse[] = [];
      for (let i = 0; i < members.length; i += 1) {
        const text = states[i];
        if (text === null || text === undefined) return { status: 'miss', reason: 'partial' };
        horses.push(parseHorseState(text, members[i]!));
      }
      return { status: 'hit', meta, horses };
    } catch (error) {
      if (error instanceof CorruptCacheEntry) return { status: 'corrupt', reason: error.message };
      throw error;
    }
  }

  async store(streamId: string, meta: CacheMeta, horses: readonly StoredHorse[], replaceIndex: boolean): Promise<boolean> {
    const ttl = this.options.ttlSeconds;
    const transaction = this.redis.multi();
    if (replaceIndex) transaction.del(indexKey(streamId));
    for (const horse of horses) {
      transaction.set(stateKey(streamId, horse.id), serializeHorseState(horse), 'EX', ttl);
      transaction.zadd(indexKey(streamId), horse.lastSeen.getTime(), horse.id);
    }
    transaction.zremrangebyrank(indexKey(streamId), 0, -(this.options.indexSize + 1));
    transaction.expire(indexKey(streamId), ttl);
    transaction.set(metaKey(streamId), serializeMeta(meta), 'EX', ttl);
    try {
      const results = await transaction.exec();
      return results !== null && results.every(([error]) => error === null);
    } catch (error) {
      this.logger.warn({ stream_id: streamId, err: (error as Error).message }, 'redis cache write failed');
      return false;
    }
  }

  async remove(streamId: string, horseIds: readonly string[]): Promise<number | null> {
    const transaction = this.redis.multi().del(metaKey(streamId));
    if (horseIds.length > 0) {
      transaction.del(...horseIds.map((id) => stateKey(streamId, id)));
      transaction.zrem(indexKey(streamId), ...horseIds);
    }
    try {
      const results = await transaction.exec();
      if (results === null) return null;
      return horseIds.length > 0 ? Number(results[1]?.[1] ?? 0) : 0;
    } catch (error) {
      this.logger.warn({ stream_id: streamId, err: (error as Error).message }, 'redis cache removal failed');
      return null;
    }
  }

  /** For tests and diagnostics: the raw client. */
  get client(): Redis {
    return this.redis;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }
}
