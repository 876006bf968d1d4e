import { NotFoundError, PaddockError, UsageError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { decodeTrackerState, encodeTrackerState, type TrackerState } from '../tracking/index.ts';
import type { CacheMeta } from './cache-entry.ts';
import type { Database, SqlClient } from './database.ts';
import { HORSE_COLUMNS, LIVE_HORSE, horseFromRow, summaryOf, type HorseRow } from './horse-rows.ts';
import type { CacheLoad, HotCache } from './hot-cache.ts';
import { enforceFence, LeaseTable, type WriteFence } from './leases.ts';
import { ChunkSaver } from './save-chunk.ts';
import { RegistryBrowser } from './browse.ts';
import { RegistryCuration, unknownHorse } from './curation.ts';
import { herdFrom, streamState } from './stream-rows.ts';
import type {
  ChunkRecord,
  HerdSettings,
  HorseChunkUpdate,
  HorseSummary,
  MergeResult,
  PruneResult,
  RegistrySnapshot,
  RegistrySource,
  RegistryStore,
  SaveChunkResult,
  StoredHorse,
} from './types.ts';

export { MAX_THUMBNAIL_BYTES } from './save-chunk.ts';
const DEFAULT_MAX_SAVE_ATTEMPTS = 5;

export interface RegistryHooks {
  onLoad?(source: RegistrySource, seconds: number): void;
  onCache?(result: CacheLoad['status'], reason?: string): void;
  onConflict?(streamId: string): void;
}

export interface SqlRegistryStoreOptions {
  maxExemplars: number;
  maxSaveAttempts?: number;
  hooks?: RegistryHooks;
}

/**
 * The registry on SQL (PostgreSQL or embedded PGlite: the same statements) with a hot cache in
 * front. The database is the truth; the cache is best-effort and rebuilt from it on any doubt.
 */
export class SqlRegistryStore implements RegistryStore {
  readonly kind: 'postgres' | 'embedded';
  private readonly hooks: RegistryHooks;
  private instanceId: string | null = null;
  /** Cache writes still in flight, per stream, chained so they land in order. */
  private readonly cacheWrites = new Map<string, Promise<void>>();
  /** The save path (saveChunk), in its own module. */
  private readonly saver: ChunkSaver;
  private fence: WriteFence | null = null;
  /** Stream leases and replica liveness (src/ownership decides what to do with them). */
  readonly leases: LeaseTable;
  /** Operator changes: rename, official, delete, merge, split, undo. */
  readonly curation: RegistryCuration;
  /** Read-only views for the API and the web app. */
  readonly browse: RegistryBrowser;

  constructor(
    private readonly db: Database,
    private readonly cache: HotCache,
    private readonly logger: Logger,
    private readonly options: SqlRegistryStoreOptions,
  ) {
    this.kind = db.kind;
    this.hooks = options.hooks ?? {};
    this.leases = new LeaseTable(db);
    this.curation = new RegistryCuration(db, { maxExemplars: options.maxExemplars, afterChange: (streamId, removed) => this.rewarm(streamId, removed) });
    this.browse = new RegistryBrowser(db);
    this.saver = new ChunkSaver({
      db,
      cache,
      logger,
      maxExemplars: options.maxExemplars,
      maxSaveAttempts: options.maxSaveAttempts ?? DEFAULT_MAX_SAVE_ATTEMPTS,
      hooks: this.hooks,
      instance: () => this.instance(),
      registryVersion: (streamId) => this.registryVersion(streamId),
      fence: () => this.fence,
      writeCache: (streamId, meta, horses, replaceIndex) => this.writeCache(streamId, meta, horses, replaceIndex),
    });
  }

  /**
   * From now on every chunk write (the chunk log, the horses, the tracker state) and every
   * attempt count checks the stream's lease token in its own transaction (several replicas).
   */
  setWriteFence(fence: WriteFence | null): void {
    this.fence = fence;
  }

  /**
   * Cache writes run after the database commit without holding up the chunk (the database is
   * the truth; the cache only has to catch up). Loads wait for their stream's pending write.
   */
  private writeCache(streamId: string, meta: CacheMeta | (() => Promise<CacheMeta>), horses: readonly StoredHorse[], replaceIndex: boolean): void {
    const previous = this.cacheWrites.get(streamId) ?? Promise.resolve();
    const next = previous.then(async () => {
      let ok = false;
      try {
        ok = await this.cache.store(streamId, typeof meta === 'function' ? await meta() : meta, horses, replaceIndex);
      } catch (error) {
        this.logger.warn({ stream_id: streamId, err: (error as Error).message }, 'cache write skipped');
      }
      if (!ok) await this.cache.remove(streamId, []); // never leave a stale meta behind a failed write
    });
    this.cacheWrites.set(streamId, next);
    void next.finally(() => {
      if (this.cacheWrites.get(streamId) === next) this.cacheWrites.delete(streamId);
    });
  }

  /** Resolves when every cache write scheduled so far has landed (or failed and was logged). */
  async settled(): Promise<void> {
    await Promise.all([...this.cacheWrites.values()]);
  }

  /** This database's identity, read once (see migrations/005_instance.sql). */
  private async instance(): Promise<string> {
    if (this.instanceId === null) {
      const { rows } = await this.db.query<{ id: string }>('SELECT id FROM paddock_instance ORDER BY created_at LIMIT 1');
      if (rows[0] === undefined) throw new PaddockError('DATABASE', 'paddock_instance is empty: run `paddock migrate`');
      this.instanceId = rows[0].id;
    }
    return this.instanceId;
  }

  async load(streamId: string): Promise<RegistrySnapshot> {
    const started = performance.now();
    const instance = await this.instance();
    await this.cacheWrites.get(streamId);
    // The version read beside the cache catches an entry left one commit behind by a process that
    // died between its commit and its (asynchronous) cache write.
    const [loaded, databaseVersion] = await Promise.all([this.cache.load(streamId), this.registryVersion(streamId)]);
    let cached = loaded;
    if (cached.status === 'hit' && cached.meta.instance !== instance) {
      this.logger.warn({ stream_id: streamId }, 'cache entries belong to another database; ignoring them');
      cached = { status: 'miss', reason: 'foreign' };
    } else if (cached.status === 'hit' && cached.meta.registryVersion !== databaseVersion) {
      this.logger.info(
        { stream_id: streamId, cached_version: cached.meta.registryVersion, database_version: databaseVersion },
        'cache entry is not the database version; reloading from the database',
      );
      cached = { status: 'miss', reason: 'stale' };
    }
    this.hooks.onCache?.(cached.status, 'reason' in cached ? cached.reason : undefined);
    if (cached.status === 'hit') {
      const snapshot: RegistrySnapshot = {
        streamId,
        horses: cached.horses,
        nextTrackingId: cached.meta.nextTrackingId,
        registryVersion: cached.meta.registryVersion,
        herd: cached.meta.herd,
        trackerState: this.trackerStateFrom(streamId, cached.meta.trackerState === null ? null : Buffer.from(cached.meta.trackerState, 'base64')),
        source: this.cache.kind,
      };
      this.hooks.onLoad?.(snapshot.source, (performance.now() - started) / 1000);
      return snapshot;
    }
    if (cached.status === 'corrupt') {
      this.logger.warn({ stream_id: streamId, reason: cached.reason }, 'corrupt cache entry; loading the registry from the database');
    } else if (cached.status === 'unavailable') {
      this.logger.warn({ stream_id: streamId, err: cached.error.message }, 'cache unavailable; loading the registry from the database');
    }
    const snapshot = await this.loadFromDatabase(this.db, streamId);
    this.hooks.onLoad?.(snapshot.source, (performance.now() - started) / 1000);
    this.writeCache(streamId, this.metaOf(snapshot), snapshot.horses, true);
    return snapshot;
  }

  private metaOf(snapshot: RegistrySnapshot): CacheMeta {
    return {
      instance: this.instanceId ?? '',
      registryVersion: snapshot.registryVersion,
      nextTrackingId: snapshot.nextTrackingId,
      liveCount: snapshot.horses.length,
      herd: snapshot.herd,
      trackerState: snapshot.trackerState === null ? null : encodeTrackerState(snapshot.trackerState).toString('base64'),
    };
  }

  /** A stored tracker state, or null (logged) when it cannot be read: the tracker then starts from the registry alone. */
  private trackerStateFrom(streamId: string, bytes: Uint8Array | null): TrackerState | null {
    if (bytes === null) return null;
    try {
      return decodeTrackerState(bytes);
    } catch (error) {
      this.logger.warn({ stream_id: streamId, err: (error as Error).message }, 'stored tracker state unreadable; tracking resumes from the registry alone');
      return null;
    }
  }

  private async loadFromDatabase(client: SqlClient, streamId: string): Promise<RegistrySnapshot> {
    const [horses, stream] = await Promise.all([
      client.query<HorseRow>(
        `SELECT ${HORSE_COLUMNS} FROM horses WHERE stream_id = $1 AND ${LIVE_HORSE} ORDER BY last_seen DESC, tracking_id`,
        [streamId],
      ),
      streamState(client, streamId),
    ]);
    return {
      streamId,
      horses: horses.rows.map(horseFromRow),
      nextTrackingId: Number(stream.max_tracking_id ?? 0) + 1,
      registryVersion: Number(stream.registry_version ?? 0),
      herd: herdFrom(stream),
      trackerState: this.trackerStateFrom(streamId, stream.tracker_state),
      source: this.db.kind === 'postgres' ? 'postgres' : 'embedded',
    };
  }

  async saveChunk(chunk: ChunkRecord, updates: HorseChunkUpdate[]): Promise<SaveChunkResult> {
    return this.saver.save(chunk, updates);
  }

  async attemptStarted(streamId: string, chunkId: string): Promise<void> {
    const fence = this.fence;
    const token = fence?.tokenOf(streamId) ?? null;
    if (fence === null) {
      await this.db.query(
        `INSERT INTO chunk_attempts (stream_id, chunk_id, interrupted) VALUES ($1, $2, 1)
         ON CONFLICT (stream_id, chunk_id) DO UPDATE SET interrupted = chunk_attempts.interrupted + 1, updated_at = now()`,
        [streamId, chunkId],
      );
      return;
    }
    // A former owner must not count attempts at the new owner's chunks (they could dead-letter
    // one): counted only while the lease still carries our token, in one statement.
    const { rows } = await this.db.query(
      `WITH lease AS (SELECT 1 FROM stream_leases WHERE stream_id = $1 AND token = $3 FOR SHARE)
       INSERT INTO chunk_attempts (stream_id, chunk_id, interrupted) SELECT $1, $2, 1 FROM lease
       ON CONFLICT (stream_id, chunk_id) DO UPDATE SET interrupted = chunk_attempts.interrupted + 1, updated_at = now()
       RETURNING 1`,
      [streamId, chunkId, token ?? -1],
    );
    if (rows.length > 0) return;
    await enforceFence(this.db, streamId, fence); // throws LEASE_LOST, saying who holds the lease now
    throw new PaddockError('LEASE_LOST', `attempt at ${streamId}/${chunkId} not counted: the lease of replica ${fence.replicaId} changed meanwhile`);
  }

  async attemptEnded(streamId: string, chunkId: string): Promise<void> {
    // One row per chunk in flight; it goes once nothing is left to count.
    await this.db.query('UPDATE chunk_attempts SET interrupted = interrupted - 1, updated_at = now() WHERE stream_id = $1 AND chunk_id = $2', [streamId, chunkId]);
    await this.db.query('DELETE FROM chunk_attempts WHERE stream_id = $1 AND chunk_id = $2 AND interrupted <= 0', [streamId, chunkId]);
  }

  async interruptedAttempts(streamId: string, chunkId: string): Promise<number> {
    const { rows } = await this.db.query<{ interrupted: number }>('SELECT interrupted FROM chunk_attempts WHERE stream_id = $1 AND chunk_id = $2', [streamId, chunkId]);
    return Math.max(0, Number(rows[0]?.interrupted ?? 0));
  }

  async isChunkProcessed(streamId: string, chunkId: string): Promise<boolean> {
    const { rows } = await this.db.query('SELECT 1 FROM stream_chunks WHERE stream_id = $1 AND chunk_id = $2', [streamId, chunkId]);
    return rows.length > 0;
  }

  async lastSequence(streamId: string): Promise<number | null> {
    const { rows } = await this.db.query<{ sequence: number }>(
      'SELECT sequence FROM stream_chunks WHERE stream_id = $1 ORDER BY sequence DESC LIMIT 1',
      [streamId],
    );
    return rows[0] === undefined ? null : Number(rows[0].sequence);
  }

  async registryVersion(streamId: string): Promise<number> {
    const { rows } = await this.db.query<{ registry_version: number }>('SELECT registry_version FROM streams WHERE stream_id = $1', [streamId]);
    return Number(rows[0]?.registry_version ?? 0);
  }

  async listHorses(streamId: string): Promise<HorseSummary[]> {
    const { rows } = await this.db.query<HorseRow>(
      `SELECT ${HORSE_COLUMNS} FROM horses WHERE stream_id = $1 AND ${LIVE_HORSE} ORDER BY tracking_id`,
      [streamId],
    );
    return rows.map((row) => summaryOf(horseFromRow(row)));
  }

  async rename(streamId: string, horseId: string, name: string): Promise<void> {
    await this.curation.rename(streamId, horseId, name);
  }

  async merge(streamId: string, keepId: string, dropId: string): Promise<MergeResult> {
    return this.curation.merge(streamId, keepId, dropId);
  }

  async thumbnail(streamId: string, horseId: string): Promise<Buffer | null> {
    return (await this.avatar(streamId, horseId)).jpeg;
  }

  /** The horse's avatar and the horse version it belongs to (a thumbnail URL names the version). */
  async avatar(streamId: string, horseId: string): Promise<{ jpeg: Buffer | null; version: number }> {
    const { rows } = await this.db.query<{ avatar_thumbnail: Uint8Array | null; version: number }>(
      `SELECT avatar_thumbnail, version FROM horses WHERE stream_id = $1 AND id = $2 AND ${LIVE_HORSE}`,
      [streamId, horseId],
    );
    if (rows[0] === undefined) throw await unknownHorse(this.db, streamId, horseId);
    const bytes = rows[0].avatar_thumbnail;
    return { jpeg: bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), version: Number(rows[0].version) };
  }

  async prune(inactiveDays: number, now: Date = new Date(), sightingDays?: number): Promise<PruneResult> {
    // 0 would drop the avatars of horses seen minutes ago.
    if (!Number.isFinite(inactiveDays) || inactiveDays < 1) throw new UsageError('--inactive-days must be at least 1');
    if (sightingDays !== undefined && (!Number.isFinite(sightingDays) || sightingDays < 1)) throw new UsageError('sighting retention must be at least 1 day');
    const cutoff = new Date(now.getTime() - inactiveDays * 86_400_000);
    // The timeline's rows (one per horse per chunk) are the registry's one growing table: kept for a window.
    const sightingsDropped =
      sightingDays === undefined
        ? 0
        : (await this.db.query('DELETE FROM horse_sightings WHERE last_seen < $1 RETURNING 1', [new Date(now.getTime() - sightingDays * 86_400_000)])).rows.length;
    const { inactive, dropped } = await this.db.transaction(async (client) => {
      const found = await client.query<{ stream_id: string; id: string }>(
        'SELECT stream_id, id FROM horses WHERE last_seen < $1 AND merged_into IS NULL ORDER BY stream_id, id',
        [cutoff],
      );
      const cleared = await client.query<{ stream_id: string }>(
        `UPDATE horses SET avatar_thumbnail = NULL, thumbnail_quality = NULL, version = version + 1, updated_at = now()
          WHERE last_seen < $1 AND avatar_thumbnail IS NOT NULL RETURNING stream_id`,
        [cutoff],
      );
      const touched = [...new Set(cleared.rows.map((row) => row.stream_id))];
      if (touched.length > 0) {
        await client.query(
          'UPDATE streams SET registry_version = registry_version + 1, updated_at = now() WHERE stream_id = ANY($1::text[])',
          [touched],
        );
      }
      return { inactive: found.rows, dropped: cleared.rows.length };
    });
    const byStream = new Map<string, string[]>();
    for (const row of inactive) byStream.set(row.stream_id, [...(byStream.get(row.stream_id) ?? []), row.id]);
    let cacheEntriesDropped = 0;
    for (const [streamId, ids] of byStream) {
      await this.cacheWrites.get(streamId);
      cacheEntriesDropped += (await this.cache.remove(streamId, ids)) ?? 0;
    }
    return { thumbnailsDropped: dropped, cacheEntriesDropped, horsesInactive: inactive.length, sightingsDropped };
  }

  async setHerd(streamId: string, herd: HerdSettings | null): Promise<void> {
    if (herd !== null && (!Number.isInteger(herd.expectedCount) || herd.expectedCount < 1)) {
      throw new UsageError('the herd size must be a positive integer');
    }
    await this.db.transaction(async (client) => {
      if (herd !== null && herd.officialIds.length > 0) {
        const { rows } = await client.query<{ id: string }>(
          `SELECT id FROM horses WHERE stream_id = $1 AND id = ANY($2::text[]) AND ${LIVE_HORSE}`,
          [streamId, herd.officialIds],
        );
        const known = new Set(rows.map((row) => row.id));
        const missing = herd.officialIds.filter((id) => !known.has(id));
        if (missing.length > 0) throw new NotFoundError(`unknown horse ${missing.join(', ')} in stream ${streamId}`);
      }
      await client.query(
        `INSERT INTO streams (stream_id, registry_version, herd_expected_count, herd_official_ids) VALUES ($1, 1, $2, $3)
         ON CONFLICT (stream_id) DO UPDATE SET registry_version = streams.registry_version + 1,
           herd_expected_count = EXCLUDED.herd_expected_count, herd_official_ids = EXCLUDED.herd_official_ids, updated_at = now()`,
        [streamId, herd?.expectedCount ?? null, herd?.officialIds ?? []],
      );
    });
    await this.rewarm(streamId, []);
  }

  private async bumpStream(client: SqlClient, streamId: string): Promise<number> {
    const { rows } = await client.query<{ registry_version: number }>(
      `INSERT INTO streams (stream_id, registry_version) VALUES ($1, 1)
       ON CONFLICT (stream_id) DO UPDATE SET registry_version = streams.registry_version + 1, updated_at = now()
       RETURNING registry_version`,
      [streamId],
    );
    return Number(rows[0]!.registry_version);
  }

  /** After an operator change: drop stale entries, then warm the cache from the database. */
  async rewarm(streamId: string, removedIds: string[]): Promise<void> {
    await this.cacheWrites.get(streamId);
    await this.cache.remove(streamId, removedIds);
    const snapshot = await this.loadFromDatabase(this.db, streamId);
    this.writeCache(streamId, this.metaOf(snapshot), snapshot.horses, true);
    await this.cacheWrites.get(streamId);
  }

  async close(): Promise<void> {
    await this.settled();
    await this.cache.close();
    await this.db.close();
  }
}
