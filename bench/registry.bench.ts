/**
 * Registry load/save with 50 horses, 512-d feature banks and 20 KB thumbnails, against the
 * original plan's load (KEYS horse:{stream}:* then one GET per key) with 10,000 unrelated keys.
 */
import { Redis } from 'ioredis';
import { silentLogger } from '../src/log/index.ts';
import { createEmbeddedDatabase, createPostgresDatabase, type Database } from '../src/registry/database.ts';
import { LeaseTable, type WriteFence } from '../src/registry/leases.ts';
import type { HotCache } from '../src/registry/hot-cache.ts';
import { MemoryHotCache } from '../src/registry/memory-cache.ts';
import { migrate } from '../src/registry/migrations.ts';
import { RedisHotCache } from '../src/registry/redis-cache.ts';
import { SqlRegistryStore } from '../src/registry/sql-store.ts';
import type { HorseChunkUpdate, StoredHorse } from '../src/registry/types.ts';
import { chunk, featureBank, newHorseUpdate } from '../test/helpers/registry-fixtures.ts';
import { createScratchDatabase, TEST_REDIS_URL, uniqueId } from '../test/helpers/services.ts';
import { summarize, timeIt } from './stats.ts';

const HORSES = 50;
const DIM = 512;
const ITERATIONS = 200;
const UNRELATED_KEYS = 10_000;
/**
 * Untimed runs before each phase: the figures are steady-state latencies, after V8 has tiered
 * the code up (the first ~200 loads run noticeably slower). Baseline and paddock get the same.
 */
const LOAD_WARMUP = 200;
const SAVE_WARMUP = 50;

function initialUpdates(): HorseChunkUpdate[] {
  return Array.from({ length: HORSES }, (_, i) =>
    newHorseUpdate(i + 1, {
      dim: DIM,
      features: featureBank(DIM, i + 1, 8),
      thumbnail: Buffer.alloc(20 * 1024, i),
      thumbnailQuality: 1,
      seenAt: new Date(Date.UTC(2026, 10, 20, 10, i)),
    }),
  );
}

/**
 * A chunk's writes for every horse: a new running mean, a better 20 KB thumbnail, and either the
 * same exemplars (most chunks) or all of them replaced.
 */
function nextUpdates(horses: StoredHorse[], sequence: number, exemplarsChanged: boolean): HorseChunkUpdate[] {
  return horses.map((horse) => ({
    ...newHorseUpdate(horse.trackingId, { dim: DIM, seenAt: new Date(Date.UTC(2026, 10, 21, 0, 0, sequence)) }),
    features: {
      first: horse.features.first,
      mean: featureBank(DIM, sequence * 1000 + horse.trackingId, 0).mean,
      exemplars: exemplarsChanged ? featureBank(DIM, sequence * 1000 + horse.trackingId, 8).exemplars : horse.features.exemplars,
    },
    exemplarsChanged,
    isNew: false,
    baseVersion: horse.version,
    thumbnail: Buffer.alloc(20 * 1024, sequence % 256),
    thumbnailQuality: sequence + 2,
  }));
}

/** Starts a measured phase without the previous phase's garbage (when gc is exposed). */
const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

async function benchStore(label: string, store: SqlRegistryStore, cache: HotCache, streamId: string) {
  let horses = (await store.saveChunk(chunk(streamId, 1), initialUpdates())).horses;
  await store.settled();
  await store.load(streamId);
  collectGarbage();
  const warm = summarize(`${label}: load 50 horses, warm ${cache.kind} cache`, await timeIt(async () => {
    const snapshot = await store.load(streamId);
    if (snapshot.source !== cache.kind || snapshot.horses.length !== HORSES) throw new Error(`unexpected ${snapshot.source} load`);
  }, ITERATIONS, LOAD_WARMUP));
  collectGarbage();
  const coldSamples: number[] = [];
  for (let i = 0; i < ITERATIONS + 3; i += 1) {
    await store.settled();
    await cache.remove(streamId, []);
    const started = performance.now();
    const snapshot = await store.load(streamId);
    if (i >= 3) coldSamples.push(performance.now() - started);
    if (snapshot.source === cache.kind) throw new Error('cache was not empty');
  }
  const cold = summarize(`${label}: load 50 horses, cache empty (db + re-warm)`, coldSamples);
  // Saves last: their garbage (and the autovacuum it triggers) must not land in the load samples.
  let sequence = 2;
  collectGarbage();
  // Chunks of a stream are seconds apart, so each save starts after the previous one's cache
  // write (done off the chunk's path) has landed; back to back they would contend for the CPU.
  const timeSaves = async (iterations: number, warmup: number, exemplarsChanged: boolean) => {
    const samples: number[] = [];
    for (let i = 0; i < warmup + iterations; i += 1) {
      await store.settled();
      const started = performance.now();
      horses = (await store.saveChunk(chunk(streamId, sequence), nextUpdates(horses, sequence, exemplarsChanged))).horses;
      if (i >= warmup) samples.push(performance.now() - started);
      sequence += 1;
    }
    return samples;
  };
  const save = summarize(`${label}: save 50 horses + 20 KB thumbnails`, await timeSaves(ITERATIONS, SAVE_WARMUP, false));
  summarize(`${label}: same, every exemplar rewritten too`, await timeSaves(Math.min(ITERATIONS, 100), 3, true));
  await store.settled();
  return { save, warm, cold };
}

/**
 * The fencing token check several replicas add to every write (src/ownership): the same store
 * saving the same stream with and without it, interleaved so drift hits both alike.
 */
async function benchFence(store: SqlRegistryStore, db: Database, streamId: string): Promise<void> {
  const token = await new LeaseTable(db).acquire(streamId, 'bench', 600_000);
  const fence: WriteFence = { replicaId: 'bench', tokenOf: () => token, onFenced: () => {} };
  let horses = (await store.load(streamId)).horses;
  let sequence = 1_000_000;
  const samples = { plain: [] as number[], fenced: [] as number[], attemptPlain: [] as number[], attemptFenced: [] as number[] };
  for (let i = 0; i < ITERATIONS + SAVE_WARMUP; i += 1) {
    for (const fenced of i % 2 === 0 ? [false, true] : [true, false]) {
      store.setWriteFence(fenced ? fence : null);
      await store.settled();
      const started = performance.now();
      horses = (await store.saveChunk(chunk(streamId, sequence), nextUpdates(horses, sequence, false))).horses;
      const saved = performance.now();
      await store.attemptStarted(streamId, `fence-${sequence}`);
      const attempted = performance.now();
      await store.attemptEnded(streamId, `fence-${sequence}`);
      if (i >= SAVE_WARMUP) {
        (fenced ? samples.fenced : samples.plain).push(saved - started);
        (fenced ? samples.attemptFenced : samples.attemptPlain).push(attempted - saved);
      }
      sequence += 1;
    }
  }
  store.setWriteFence(null);
  const plain = summarize('baseline: save 50 horses, no lease check', samples.plain);
  const fenced = summarize('save 50 horses, fencing token checked', samples.fenced);
  const attemptPlain = summarize('baseline: count a chunk attempt, no lease check', samples.attemptPlain);
  const attemptFenced = summarize('count a chunk attempt, fencing token checked', samples.attemptFenced);
  console.log(`fencing cost: save p50 ${(fenced.p50 / plain.p50).toFixed(2)}x, p99 ${(fenced.p99 / plain.p99).toFixed(2)}x; attempt p50 +${(attemptFenced.p50 - attemptPlain.p50).toFixed(2)} ms`);
}

export async function run(): Promise<void> {
  console.log(`${HORSES} horses, ${DIM}-d feature banks (first + mean + 8 exemplars), ${ITERATIONS} iterations each`);
  const scratch = await createScratchDatabase('paddock_t_bench');
  const db = createPostgresDatabase(scratch.url);
  const redisCache = new RedisHotCache(TEST_REDIS_URL, { ttlSeconds: 300, indexSize: 50 }, silentLogger());
  const redis = new Redis(TEST_REDIS_URL);
  const streamId = uniqueId('bench');
  const unrelated = Array.from({ length: UNRELATED_KEYS }, (_, i) => `bench-unrelated:${streamId}:${i}`);
  try {
    await migrate(db);
    const store = new SqlRegistryStore(db, redisCache, silentLogger(), { maxExemplars: 8 });
    const postgres = await benchStore('postgres+redis', store, redisCache, streamId);
    await benchFence(store, db, streamId);

    // The original plan: KEYS horse:{stream}:* then one GET per key, with unrelated keys around.
    for (let i = 0; i < unrelated.length; i += 1000) {
      const batch = redis.pipeline();
      for (const key of unrelated.slice(i, i + 1000)) batch.set(key, 'x', 'EX', 600);
      await batch.exec();
    }
    await store.load(streamId);
    const baseline = summarize('baseline: KEYS horse:{stream}:* + GET per key', await timeIt(async () => {
      const keys = await redis.keys(`horse:${streamId}:*`);
      const values = await Promise.all(keys.map((key) => redis.get(key)));
      if (values.length !== HORSES) throw new Error(`baseline found ${values.length} keys`);
      values.map((value) => JSON.parse(value!));
    }, ITERATIONS, LOAD_WARMUP));
    const oursWithNoise = summarize('paddock: index + MGET, same 10k unrelated keys', await timeIt(async () => {
      await store.load(streamId);
    }, ITERATIONS, LOAD_WARMUP));
    console.log(
      `ratio baseline/paddock warm load: p50 ${(baseline.p50 / oursWithNoise.p50).toFixed(2)}x, p99 ${(baseline.p99 / oursWithNoise.p99).toFixed(2)}x`,
    );

    const embeddedDb = await createEmbeddedDatabase(undefined);
    await migrate(embeddedDb);
    const memory = new MemoryHotCache({ ttlSeconds: 300, indexSize: 50 });
    const embedded = await benchStore('embedded pglite+memory', new SqlRegistryStore(embeddedDb, memory, silentLogger(), { maxExemplars: 8 }), memory, streamId);
    await embeddedDb.close();

    const verdict = (name: string, value: number, target: number) =>
      console.log(`target ${name}: p99 ${value.toFixed(2)} ms (< ${target} ms) ${value < target ? 'met' : 'MISSED'}`);
    verdict('warm Redis load', postgres.warm.p99, 5);
    verdict('PostgreSQL load, cache empty', postgres.cold.p99, 20);
    verdict('save 50 horses', postgres.save.p99, 30);
    verdict('PGlite load, cache empty (no target; for reference)', embedded.cold.p99, Infinity);
  } finally {
    for (let i = 0; i < unrelated.length; i += 1000) await redis.del(...unrelated.slice(i, i + 1000));
    redis.disconnect();
    await redisCache.close();
    await db.close();
    await scratch.drop();
  }
}
