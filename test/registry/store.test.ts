import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TrackerState } from '../../src/tracking/state.ts';
import { silentLogger } from '../../src/log/index.ts';
import { createEmbeddedDatabase, createPostgresDatabase, type Database } from '../../src/registry/database.ts';
import { stateKey, indexKey, type HotCache } from '../../src/registry/hot-cache.ts';
import { MemoryHotCache } from '../../src/registry/memory-cache.ts';
import { migrate, readMigrations } from '../../src/registry/migrations.ts';
import { RedisHotCache } from '../../src/registry/redis-cache.ts';
import { SqlRegistryStore, type RegistryHooks } from '../../src/registry/sql-store.ts';
import type { HorseChunkUpdate, StoredHorse } from '../../src/registry/types.ts';
import { chunk, featureBank, newHorseUpdate, sameBits } from '../helpers/registry-fixtures.ts';
import { createScratchDatabase, serviceAvailable, TEST_REDIS_URL, uniqueId } from '../helpers/services.ts';

interface Backend {
  name: string;
  available: boolean;
  open(): Promise<{ db: Database; cleanup: () => Promise<void> }>;
  cache(): HotCache;
  /** Overwrites one raw cache entry, as a broken writer would. */
  corrupt(cache: HotCache, key: string, value: string): Promise<void>;
}

const CACHE = { ttlSeconds: 300, indexSize: 50 };
const postgresUp = await serviceAvailable('postgres');
const redisUp = await serviceAvailable('redis');

const backends: Backend[] = [
  {
    name: 'PostgreSQL + Redis',
    available: postgresUp && redisUp,
    async open() {
      const scratch = await createScratchDatabase();
      const db = createPostgresDatabase(scratch.url);
      return { db, cleanup: async () => { await db.close(); await scratch.drop(); } };
    },
    cache: () => new RedisHotCache(TEST_REDIS_URL, CACHE, silentLogger()),
    corrupt: async (cache, key, value) => {
      await (cache as RedisHotCache).client.set(key, value, 'EX', 300);
    },
  },
  {
    name: 'embedded PGlite + in-process cache',
    available: true,
    async open() {
      const db = await createEmbeddedDatabase(undefined);
      return { db, cleanup: () => db.close() };
    },
    cache: () => new MemoryHotCache(CACHE),
    corrupt: async (cache, key, value) => (cache as MemoryHotCache).putRaw(key, value),
  },
];

function recordingHooks() {
  const events = { loads: [] as string[], cache: [] as string[], conflicts: 0 };
  const hooks: RegistryHooks = {
    onLoad: (source) => events.loads.push(source),
    onCache: (status) => events.cache.push(status),
    onConflict: () => {
      events.conflicts += 1;
    },
  };
  return { events, hooks };
}

for (const backend of backends) {
  describe.skipIf(!backend.available)(`registry store on ${backend.name}`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    let store: SqlRegistryStore;
    let cache: HotCache;
    const recorder = recordingHooks();
    const databaseSource = backend.name.startsWith('PostgreSQL') ? 'postgres' : 'embedded';
    const cacheSource = backend.name.startsWith('PostgreSQL') ? 'redis' : 'memory';

    beforeAll(async () => {
      ({ db, cleanup } = await backend.open());
      expect((await migrate(db)).map((m) => m.version)).toEqual((await readMigrations()).map((m) => m.version));
      cache = backend.cache();
      store = new SqlRegistryStore(db, cache, silentLogger(), { maxExemplars: 8, hooks: recorder.hooks });
    });

    afterAll(async () => {
      await cache?.close();
      await cleanup?.();
    });

    it("saves the tracker's live state with the chunk and gives it back from the cache and from the database", async () => {
      const streamId = uniqueId('state');
      const appearance = Float32Array.from({ length: 64 }, (_, i) => Math.cos(i));
      const trackerState: TrackerState = {
        version: 1,
        sequence: 1,
        lastFrameMs: Date.UTC(2026, 10, 20, 10, 0, 10),
        nextTrackKey: 4,
        tracks: [
          {
            key: 3,
            phase: 'tracked',
            kalman: { position: [100, 120, 80, 60], velocity: [2, 0, 0, 0], pp: [4, 4, 4, 4], pv: [0.5, 0.5, 0.5, 0.5], vv: [1, 1, 1, 1] },
            hits: 7,
            lostFrames: 0,
            confirmed: true,
            horseId: null,
            bank: null,
            appearance,
            firstSeenMs: Date.UTC(2026, 10, 20, 10, 0, 8),
            cleanViews: 2,
            visibleViews: 4,
            selfSimilarity: 0.93,
            fullW: 80,
            fullH: 60,
            provisional: true,
            coVisibleHorses: [['horse_001', 6]],
            coVisibleTracks: [],
          },
        ],
      };
      await store.saveChunk({ ...chunk(streamId, 1), trackerState }, [newHorseUpdate(1)]);
      for (const source of [cacheSource, databaseSource]) {
        if (source === databaseSource) {
          await store.settled();
          await cache.remove(streamId, []);
        }
        const snapshot = await store.load(streamId);
        expect(snapshot.source).toBe(source);
        const track = snapshot.trackerState!.tracks[0]!;
        expect(snapshot.trackerState!.sequence).toBe(1);
        expect(track.key).toBe(3);
        expect(track.provisional).toBe(true);
        expect(track.coVisibleHorses).toEqual([['horse_001', 6]]);
        let cosine = 0;
        const norm = Math.hypot(...appearance);
        track.appearance!.forEach((value, i) => (cosine += (value * appearance[i]!) / norm));
        expect(cosine).toBeGreaterThan(0.999);
      }
      // The next chunk without a state clears it: nothing stale is resumed.
      await store.saveChunk(chunk(streamId, 2), []);
      await store.settled();
      await cache.remove(streamId, []);
      expect((await store.load(streamId)).trackerState).toBeNull();
    });

    it('counts the attempts at a chunk that the process did not live to finish', async () => {
      const streamId = uniqueId('attempts');
      expect(await store.interruptedAttempts(streamId, 'c1')).toBe(0);
      await store.attemptStarted(streamId, 'c1'); // the process dies here
      await store.attemptStarted(streamId, 'c1'); // and here
      await store.attemptStarted(streamId, 'c1');
      await store.attemptEnded(streamId, 'c1'); // this one ended in order
      expect(await store.interruptedAttempts(streamId, 'c1')).toBe(2);
      expect(await store.interruptedAttempts(streamId, 'c2')).toBe(0);
      await store.attemptEnded(streamId, 'c1');
      await store.attemptEnded(streamId, 'c1');
      expect(await store.interruptedAttempts(streamId, 'c1')).toBe(0);
      expect((await db.query('SELECT count(*)::int AS n FROM chunk_attempts WHERE stream_id = $1', [streamId])).rows[0]).toEqual({ n: 0 });
    });

    it('re-running migrations on an up-to-date database is a no-op', async () => {
      expect(await migrate(db)).toEqual([]);
    });

    it('an unknown stream has no horses and starts at tracking number 1', async () => {
      const streamId = uniqueId('empty');
      expect(await store.listHorses(streamId)).toEqual([]);
      const snapshot = await store.load(streamId);
      expect(snapshot.horses).toEqual([]);
      expect(snapshot.nextTrackingId).toBe(1);
      expect(snapshot.registryVersion).toBe(0);
    });

    it("loads 20 known horses as the tracker's starting state, bit-exact", async () => {
      const streamId = uniqueId('twenty');
      const updates = Array.from({ length: 20 }, (_, i) =>
        newHorseUpdate(i + 1, { dim: 512, seenAt: new Date(Date.UTC(2026, 10, 20, 10, i)) }),
      );
      // Values a lossy encoding would break: -0, a subnormal, the largest float32.
      updates[0]!.features.first[0] = -0;
      updates[0]!.features.first[1] = 1.4e-45;
      updates[0]!.features.first[2] = 3.4028234663852886e38;
      const saved = await store.saveChunk(chunk(streamId, 1), updates);
      expect(saved.duplicate).toBe(false);
      expect(saved.horses).toHaveLength(20);

      for (const source of [cacheSource, databaseSource]) {
        if (source === databaseSource) {
          await store.settled();
          await cache.remove(streamId, []);
        }
        const snapshot = await store.load(streamId);
        expect(snapshot.source).toBe(source);
        expect(snapshot.nextTrackingId).toBe(21);
        expect(snapshot.horses).toHaveLength(20);
        expect(snapshot.horses[0]!.id).toBe('horse_020'); // most recent first
        const byId = new Map(snapshot.horses.map((horse) => [horse.id, horse]));
        for (const update of updates) {
          const horse = byId.get(update.id)!;
          expect(horse.trackingId).toBe(update.trackingId);
          expect(horse.color).toBe(update.color);
          expect(horse.lastBox).toEqual(update.lastBox);
          expect(horse.lastSeen.getTime()).toBe(update.lastSeen.getTime());
          expect(horse.firstDetected.getTime()).toBe(update.firstSeen.getTime());
          expect(horse.totalDetections).toBe(10);
          expect(horse.version).toBe(1);
          expect(sameBits(horse.features.first, update.features.first)).toBe(true);
          expect(sameBits(horse.features.mean, update.features.mean)).toBe(true);
          expect(horse.features.exemplars).toHaveLength(8);
          horse.features.exemplars.forEach((exemplar, i) => expect(sameBits(exemplar, update.features.exemplars[i]!)).toBe(true));
        }
      }
    });

    it('saving the same chunk twice changes nothing', async () => {
      const streamId = uniqueId('idem');
      const first = await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1)]);
      const again = await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1, { detections: 99 })]);
      expect(again.duplicate).toBe(true);
      expect(again.registryVersion).toBe(first.registryVersion);
      const [horse] = await store.listHorses(streamId);
      expect(horse!.totalDetections).toBe(10);
      expect(await store.isChunkProcessed(streamId, chunk(streamId, 1).chunkId)).toBe(true);
      expect(await store.isChunkProcessed(streamId, 'never')).toBe(false);
      expect(await store.lastSequence(streamId)).toBe(1);
    });

    it('updates merge counters, keep the earliest first sighting and bump the version', async () => {
      const streamId = uniqueId('update');
      const [created] = (await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1, { confidence: 0.6 })])).horses;
      const update: HorseChunkUpdate = {
        ...newHorseUpdate(1, { seenAt: new Date('2026-11-20T10:00:10Z'), confidence: 0.9 }),
        isNew: false,
        baseVersion: created!.version,
      };
      const saved = await store.saveChunk(chunk(streamId, 2), [update]);
      const horse = saved.horses[0]!;
      expect(horse.version).toBe(2);
      expect(horse.totalDetections).toBe(20);
      expect(horse.confidenceScore).toBeCloseTo(0.75, 10);
      expect(horse.firstDetected.toISOString()).toBe('2026-11-20T10:00:00.000Z');
      expect(horse.lastSeen.toISOString()).toBe('2026-11-20T10:00:19.000Z');
      expect(saved.registryVersion).toBe(2);
      expect(await store.registryVersion(streamId)).toBe(2);
    });

    it('keeps the stored exemplars when an update says they did not change, and never rewrites the first vector', async () => {
      const streamId = uniqueId('exemplars');
      const [created] = (await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1)])).horses;
      const other = featureBank(64, 999);
      await store.saveChunk(chunk(streamId, 2), [
        { ...newHorseUpdate(1), isNew: false, baseVersion: created!.version, features: other, exemplarsChanged: false },
      ]);
      await store.settled();
      await cache.remove(streamId, []);
      const horse = (await store.load(streamId)).horses[0]!;
      expect(horse.features.exemplars.every((e, i) => sameBits(e, featureBank(64, 1).exemplars[i]!))).toBe(true);
      expect(sameBits(horse.features.mean, other.mean)).toBe(true);
      expect(sameBits(horse.features.first, featureBank(64, 1).first)).toBe(true);
    });

    it('two writers racing on one stream never lose an update', async () => {
      const streamId = uniqueId('race');
      await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1), newHorseUpdate(2)]);
      // A second writer: its own store, its transactions on other connections. An in-process
      // cache belongs to one process, so the embedded pair shares it; Redis gets a second client.
      const otherCache = cache instanceof MemoryHotCache ? cache : backend.cache();
      const other = new SqlRegistryStore(db, otherCache, silentLogger(), { maxExemplars: 8 });
      try {
        // Both writers start from the same snapshot, as two actors would after a restart.
        const [mine, theirs] = await Promise.all([store.load(streamId), other.load(streamId)]);
        const bump = (horse: StoredHorse, sequence: number, seed: number): HorseChunkUpdate => ({
          ...newHorseUpdate(horse.trackingId, { seenAt: new Date(Date.UTC(2026, 10, 20, 10, 0, sequence * 10)), detections: 5 }),
          isNew: false,
          baseVersion: horse.version,
          features: featureBank(64, seed),
        });
        const results = await Promise.all([
          store.saveChunk(chunk(streamId, 2), [bump(mine.horses.find((h) => h.id === 'horse_001')!, 2, 100), newHorseUpdate(3)]),
          other.saveChunk(chunk(streamId, 3), [bump(theirs.horses.find((h) => h.id === 'horse_001')!, 3, 200), newHorseUpdate(3)]),
        ]);
        expect(results.map((r) => r.conflicts).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
        const horses = await store.listHorses(streamId);
        expect(horses.map((h) => h.id)).toEqual(['horse_001', 'horse_002', 'horse_003', 'horse_004']);
        expect(horses[0]!.totalDetections).toBe(20); // 10 + 5 + 5: both contributions kept
        const renumbered = results.flatMap((r) => [...r.renumbered.entries()]);
        expect(renumbered).toEqual([['horse_003', 'horse_004']]);
        // The loser's appearance was merged into the winner's bank, not dropped: the stored mean
        // leans towards both writers' means.
        const reloaded = await store.load(streamId);
        const mean = reloaded.horses.find((h) => h.id === 'horse_001')!.features.mean;
        const cosine = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i]!, 0);
        expect(cosine(mean, featureBank(64, 100).mean)).toBeGreaterThan(0.2);
        expect(cosine(mean, featureBank(64, 200).mean)).toBeGreaterThan(0.2);
      } finally {
        if (otherCache !== cache) await otherCache.close();
      }
    });

    it('a stale write to a horse merged away meanwhile lands on the horse that absorbed it', async () => {
      const streamId = uniqueId('stale-merge');
      await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1), newHorseUpdate(2)]);
      const snapshot = await store.load(streamId);
      await store.merge(streamId, 'horse_001', 'horse_002');
      const stale = snapshot.horses.find((h) => h.id === 'horse_002')!;
      const saved = await store.saveChunk(chunk(streamId, 2), [
        { ...newHorseUpdate(2, { detections: 7 }), isNew: false, baseVersion: stale.version },
      ]);
      expect(saved.conflicts).toBe(1);
      expect(saved.horses[0]!.id).toBe('horse_001');
      expect(saved.horses[0]!.totalDetections).toBe(27);
    });

    it('keeps the hot cache under a TTL and caps the recency index at 50', async () => {
      const streamId = uniqueId('cap');
      const updates = Array.from({ length: 60 }, (_, i) => newHorseUpdate(i + 1, { dim: 16, seenAt: new Date(Date.UTC(2026, 10, 20, 10, i)) }));
      await store.saveChunk(chunk(streamId, 1), updates);
      await store.settled(); // cache writes land after the commit, off the chunk's path
      if (cache instanceof RedisHotCache) {
        const ttl = await cache.client.ttl(stateKey(streamId, 'horse_060'));
        expect(ttl).toBeGreaterThan(0);
        expect(ttl).toBeLessThanOrEqual(300);
        expect(await cache.client.zcard(indexKey(streamId))).toBe(50);
        const newest = await cache.client.zrevrange(indexKey(streamId), 0, 0);
        expect(newest).toEqual(['horse_060']);
      }
      // 60 live horses do not fit the 50-horse index: the load comes from the database, complete.
      const snapshot = await store.load(streamId);
      expect(snapshot.source).toBe(databaseSource);
      expect(snapshot.horses).toHaveLength(60);
    });

    it('falls back to the database on corrupt cache entries, counts them, and re-warms', async () => {
      const streamId = uniqueId('corrupt');
      await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1), newHorseUpdate(2)]);
      expect((await store.load(streamId)).source).toBe(cacheSource);

      const corruptions = [
        '{not json',
        JSON.stringify({ id: 'horse_001' }),
        (() => {
          const state = JSON.parse(JSON.stringify({ ...newHorseUpdate(1) }));
          return JSON.stringify({ ...state, firstDetected: 'yesterday' });
        })(),
      ];
      for (const value of corruptions) {
        await backend.corrupt(cache, stateKey(streamId, 'horse_001'), value);
        const before = recorder.events.cache.filter((s) => s === 'corrupt').length;
        const snapshot = await store.load(streamId);
        expect(snapshot.source).toBe(databaseSource);
        expect(snapshot.horses.map((h) => h.id).sort()).toEqual(['horse_001', 'horse_002']);
        expect(recorder.events.cache.filter((s) => s === 'corrupt').length).toBe(before + 1);
        expect((await store.load(streamId)).source).toBe(cacheSource); // re-warmed
      }

      // A vector of the wrong length is corrupt too.
      const good = (await store.load(streamId)).horses.find((h) => h.id === 'horse_002')!;
      const { serializeHorseState } = await import('../../src/registry/cache-entry.ts');
      const wrong = JSON.parse(serializeHorseState(good));
      wrong.features.mean = Buffer.alloc(12).toString('base64');
      await backend.corrupt(cache, stateKey(streamId, 'horse_002'), JSON.stringify(wrong));
      expect((await store.load(streamId)).source).toBe(databaseSource);
    });

    it('a missing entry is a miss that falls back and re-warms', async () => {
      const streamId = uniqueId('partial');
      await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1), newHorseUpdate(2)]);
      await store.settled();
      await cache.remove(streamId, ['horse_002']);
      expect((await store.load(streamId)).source).toBe(databaseSource);
      expect((await store.load(streamId)).source).toBe(cacheSource);
    });

    it('never serves a cache entry left one commit behind by a process killed before its cache write', async () => {
      const streamId = uniqueId('behind');
      await store.saveChunk({ ...chunk(streamId, 1), trackerState: null }, [newHorseUpdate(1)]);
      expect((await store.load(streamId)).source).toBe(cacheSource);
      // Another process commits chunk 2 and dies before its cache write lands.
      const killedBeforeCacheWrite: HotCache = { kind: cache.kind, load: (id) => cache.load(id), store: async () => true, remove: async () => 0, close: async () => {} };
      const dying = new SqlRegistryStore(db, killedBeforeCacheWrite, silentLogger(), { maxExemplars: 8 });
      await dying.saveChunk(chunk(streamId, 2), [newHorseUpdate(2)]);
      const databaseVersion = await store.registryVersion(streamId);

      const reasons: string[] = [];
      const watching = new SqlRegistryStore(db, cache, silentLogger(), { maxExemplars: 8, hooks: { onCache: (status, reason) => reasons.push(`${status}:${reason}`) } });
      const snapshot = await watching.load(streamId);
      expect(reasons).toEqual(['miss:stale']);
      expect(snapshot.source).toBe(databaseSource);
      expect(snapshot.registryVersion).toBe(databaseVersion);
      expect(snapshot.horses.map((h) => h.id).sort()).toEqual(['horse_001', 'horse_002']);
      await watching.settled();
      const again = await watching.load(streamId); // re-warmed at the database version
      expect(again.source).toBe(cacheSource);
      expect(again.registryVersion).toBe(databaseVersion);
    });

    it('merges DROP into KEEP in one transaction and never reuses numbers', async () => {
      const streamId = uniqueId('merge');
      const thumbSmall = Buffer.alloc(1000, 1);
      const thumbBig = Buffer.alloc(2000, 2);
      await store.saveChunk(chunk(streamId, 1), [
        newHorseUpdate(1, { seenAt: new Date('2026-11-20T10:00:00Z'), detections: 10, confidence: 0.5, thumbnail: thumbSmall, thumbnailQuality: 10 }),
        newHorseUpdate(2, { seenAt: new Date('2026-11-19T08:00:00Z'), detections: 30, confidence: 0.9, thumbnail: thumbBig, thumbnailQuality: 50 }),
      ]);
      await store.saveChunk(chunk(streamId, 2), [
        { ...newHorseUpdate(2, { seenAt: new Date('2026-11-21T08:00:00Z'), detections: 0 }), isNew: false, baseVersion: 1, thumbnail: null },
      ]);
      const result = await store.merge(streamId, 'horse_001', 'horse_002');
      expect(result.keep.totalDetections).toBe(40);
      expect(result.keep.confidenceScore).toBeCloseTo((10 * 0.5 + 30 * 0.9) / 40, 10);
      expect(result.keep.firstDetected.toISOString()).toBe('2026-11-19T08:00:00.000Z');
      expect(result.keep.lastSeen.toISOString()).toBe('2026-11-21T08:00:09.000Z');
      expect(result.keep.thumbnailBytes).toBe(2000);
      expect((await store.thumbnail(streamId, 'horse_001'))!.equals(thumbBig)).toBe(true);
      // horse_002 appeared first, so its first-appearance vector is the merged horse's.
      expect(sameBits(result.keep.features.first, featureBank(64, 2).first)).toBe(true);
      expect(result.keep.features.exemplars.length).toBeLessThanOrEqual(8);

      const snapshot = await store.load(streamId);
      expect(snapshot.horses.map((h) => h.id)).toEqual(['horse_001']);
      expect(snapshot.nextTrackingId).toBe(3);
      await expect(store.thumbnail(streamId, 'horse_002')).rejects.toThrow(/merged into horse_001/);
      await expect(store.merge(streamId, 'horse_001', 'horse_002')).rejects.toThrow(/merged into horse_001/);
      await expect(store.merge(streamId, 'horse_001', 'horse_001')).rejects.toThrow(/itself/);
      await expect(store.merge(streamId, 'horse_001', 'horse_404')).rejects.toThrow(/unknown horse horse_404/);
      const fresh = await store.saveChunk(chunk(streamId, 3), [newHorseUpdate(snapshot.nextTrackingId)]);
      expect(fresh.horses[0]!.id).toBe('horse_003');
    });

    it('renames, and refuses unknown horses and oversized thumbnails with clear errors', async () => {
      const streamId = uniqueId('rename');
      await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1)]);
      await store.rename(streamId, 'horse_001', '  Bella ');
      expect((await store.load(streamId)).horses[0]!.name).toBe('Bella');
      expect((await store.listHorses(streamId))[0]!.name).toBe('Bella');
      await expect(store.rename(streamId, 'horse_009', 'X')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await expect(
        store.saveChunk(chunk(streamId, 2), [newHorseUpdate(2, { thumbnail: Buffer.alloc(102_401), thumbnailQuality: 1 })]),
      ).rejects.toMatchObject({ code: 'THUMBNAIL_TOO_LARGE' });
      expect(await store.isChunkProcessed(streamId, chunk(streamId, 2).chunkId)).toBe(false);
      // The database refuses it as well, should anything bypass the store's check.
      await expect(db.query(`UPDATE horses SET avatar_thumbnail = $1 WHERE stream_id = $2`, [Buffer.alloc(102_401), streamId])).rejects.toThrow();
    });

    it('prunes thumbnails and cache entries of inactive horses, which keep their IDs', async () => {
      const streamId = uniqueId('prune');
      const now = new Date('2027-06-01T00:00:00Z');
      await store.saveChunk(chunk(streamId, 1), [
        newHorseUpdate(1, { seenAt: new Date('2027-01-01T00:00:00Z'), thumbnail: Buffer.alloc(500, 7), thumbnailQuality: 3 }),
        newHorseUpdate(2, { seenAt: new Date('2027-05-30T00:00:00Z'), thumbnail: Buffer.alloc(600, 8), thumbnailQuality: 3 }),
      ]);
      await store.load(streamId); // warm
      const result = await store.prune(90, now);
      expect(result.thumbnailsDropped).toBeGreaterThanOrEqual(1);
      expect(result.cacheEntriesDropped).toBeGreaterThanOrEqual(1);
      const horses = await store.listHorses(streamId);
      expect(horses.map((h) => [h.id, h.thumbnailBytes])).toEqual([
        ['horse_001', 0],
        ['horse_002', 600],
      ]);
      expect(await store.thumbnail(streamId, 'horse_001')).toBeNull();
      const snapshot = await store.load(streamId);
      expect(snapshot.source).toBe(databaseSource);
      expect(snapshot.nextTrackingId).toBe(3);
    });

    it('stores a herd declaration with the registry', async () => {
      const streamId = uniqueId('herd');
      await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1), newHorseUpdate(2)]);
      await store.setHerd(streamId, { expectedCount: 2, officialIds: ['horse_001', 'horse_002'] });
      expect((await store.load(streamId)).herd).toEqual({ expectedCount: 2, officialIds: ['horse_001', 'horse_002'] });
      await expect(store.setHerd(streamId, { expectedCount: 2, officialIds: ['horse_404'] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await store.setHerd(streamId, null);
      expect((await store.load(streamId)).herd).toBeNull();
    });
  });
}

describe('registry store sharing a cache with another database', () => {
  it('ignores the other database entries, and saves a horse only the stale view had as new', async () => {
    const shared = new MemoryHotCache(CACHE);
    const [dbA, dbB] = await Promise.all([createEmbeddedDatabase(undefined), createEmbeddedDatabase(undefined)]);
    try {
      await Promise.all([migrate(dbA), migrate(dbB)]);
      const a = new SqlRegistryStore(dbA, shared, silentLogger(), { maxExemplars: 8 });
      const b = new SqlRegistryStore(dbB, shared, silentLogger(), { maxExemplars: 8 });
      await a.saveChunk(chunk('gate', 1), [newHorseUpdate(1), newHorseUpdate(2)]);
      await a.settled();
      const seenByB = await b.load('gate');
      expect(seenByB.source).toBe('embedded');
      expect(seenByB.horses).toEqual([]);

      // A writer whose snapshot came from elsewhere updates a horse this database never had.
      const stale = (await a.load('gate')).horses.find((h) => h.id === 'horse_001')!;
      const saved = await b.saveChunk(chunk('gate', 2), [{ ...newHorseUpdate(1), isNew: false, baseVersion: stale.version }]);
      expect(saved.horses.map((h) => [h.id, h.version])).toEqual([['horse_001', 1]]);
      expect((await b.listHorses('gate')).map((h) => h.id)).toEqual(['horse_001']);
    } finally {
      await dbA.close();
      await dbB.close();
    }
  });
});

describe.skipIf(!postgresUp)('registry store with Redis down', () => {
  it('keeps working on PostgreSQL alone', async () => {
    const scratch = await createScratchDatabase();
    const db = createPostgresDatabase(scratch.url);
    const recorder = recordingHooks();
    const deadRedis = new RedisHotCache('redis://127.0.0.1:1', CACHE, silentLogger());
    const store = new SqlRegistryStore(db, deadRedis, silentLogger(), { maxExemplars: 8, hooks: recorder.hooks });
    try {
      await migrate(db);
      const streamId = uniqueId('outage');
      await store.saveChunk(chunk(streamId, 1), [newHorseUpdate(1)]);
      const snapshot = await store.load(streamId);
      expect(snapshot.source).toBe('postgres');
      expect(snapshot.horses.map((h) => h.id)).toEqual(['horse_001']);
      expect(recorder.events.cache).toContain('unavailable');
      await store.merge(streamId, 'horse_001', 'horse_001').catch(() => {});
      await store.rename(streamId, 'horse_001', 'Storm');
      expect((await store.listHorses(streamId))[0]!.name).toBe('Storm');
    } finally {
      await deadRedis.close();
      await db.close();
      await scratch.drop();
    }
  });
});
