import { NotFoundError, PaddockError, UsageError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { decodeTrackerState, encodeTrackerState, type TrackerState } from '../tracking/state.ts';
import { colorFor, horseIdFor } from '../tracking/types.ts';
import type { CacheMeta } from './cache-entry.ts';
import type { Database, SqlClient } from './database.ts';
import { encodeFeatureBank } from './feature-codec.ts';
import { mergeFeatureBanks } from './feature-merge.ts';
import { HORSE_COLUMNS, horseFromRow, horseFromScalars, horseScalarColumns, summaryOf, type HorseRow, type HorseScalarRow } from './horse-rows.ts';
import type { CacheLoad, HotCache } from './hot-cache.ts';
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

export const MAX_THUMBNAIL_BYTES = 102_400;
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

/** A write based on a stale view; the transaction is rolled back and retried after a merge. */
class StaleWrite extends Error {
  constructor(
    readonly staleIds: string[],
    readonly takenIds: string[],
  ) {
    super('stale registry write');
  }
}

interface StreamRow {
  registry_version: number | null;
  tracker_state: Uint8Array | null;
  herd_expected_count: number | null;
  herd_official_ids: string[] | null;
  max_tracking_id: number | null;
  live_count: number | null;
}

/**
 * The registry on SQL (PostgreSQL or embedded PGlite: the same statements) with a hot cache in
 * front. The database is the truth; the cache is best-effort and rebuilt from it on any doubt.
 */
export class SqlRegistryStore implements RegistryStore {
  readonly kind: 'postgres' | 'embedded';
  private readonly maxSaveAttempts: number;
  private readonly hooks: RegistryHooks;
  private instanceId: string | null = null;
  /** Cache writes still in flight, per stream, chained so they land in order. */
  private readonly cacheWrites = new Map<string, Promise<void>>();

  constructor(
    private readonly db: Database,
    private readonly cache: HotCache,
    private readonly logger: Logger,
    private readonly options: SqlRegistryStoreOptions,
  ) {
    this.kind = db.kind;
    this.maxSaveAttempts = options.maxSaveAttempts ?? DEFAULT_MAX_SAVE_ATTEMPTS;
    this.hooks = options.hooks ?? {};
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
    let [cached, databaseVersion] = await Promise.all([this.cache.load(streamId), this.registryVersion(streamId)]);
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
        `SELECT ${HORSE_COLUMNS} FROM horses WHERE stream_id = $1 AND merged_into IS NULL ORDER BY last_seen DESC, tracking_id`,
        [streamId],
      ),
      this.streamState(client, streamId),
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

  private async streamState(client: SqlClient, streamId: string): Promise<StreamRow> {
    const { rows } = await client.query<StreamRow>(
      `SELECT s.registry_version, s.herd_expected_count, s.herd_official_ids, s.tracker_state,
              (SELECT max(tracking_id) FROM horses WHERE stream_id = $1) AS max_tracking_id,
              (SELECT count(*) FROM horses WHERE stream_id = $1 AND merged_into IS NULL) AS live_count
         FROM (SELECT 1) AS one LEFT JOIN streams s ON s.stream_id = $1`,
      [streamId],
    );
    return rows[0]!;
  }

  async saveChunk(chunk: ChunkRecord, updates: HorseChunkUpdate[]): Promise<SaveChunkResult> {
    for (const update of updates) {
      if (update.thumbnail !== null && update.thumbnail.byteLength > MAX_THUMBNAIL_BYTES) {
        throw new PaddockError(
          'THUMBNAIL_TOO_LARGE',
          `thumbnail of ${chunk.streamId}/${update.id} is ${update.thumbnail.byteLength} bytes; the limit is ${MAX_THUMBNAIL_BYTES}`,
        );
      }
    }
    const instance = await this.instance();
    let pending = updates.map((update) => ({ ...update }));
    const renumbered = new Map<string, string>();
    let conflicts = 0;
    for (let attempt = 1; ; attempt += 1) {
      try {
        // A renumbered horse makes the state's horse IDs wrong: drop it rather than resume from it.
        const trackerState = renumbered.size > 0 || chunk.trackerState === undefined || chunk.trackerState === null ? null : encodeTrackerState(chunk.trackerState);
        const saved = await this.db.transaction((client) => this.writeChunk(client, chunk, pending, instance, trackerState));
        if (saved === null) return { duplicate: true, conflicts, renumbered, registryVersion: await this.registryVersion(chunk.streamId), horses: [] };
        // The counts for the cache meta are read after the commit, off the chunk's path.
        const encodedState = trackerState === null ? null : trackerState.toString('base64');
        this.writeCache(chunk.streamId, async () => ({ ...saved.meta, trackerState: encodedState, ...(await this.streamCounts(chunk.streamId)) }), saved.horses, false);
        return { duplicate: false, conflicts, renumbered, registryVersion: saved.meta.registryVersion, horses: saved.horses };
      } catch (error) {
        if (!(error instanceof StaleWrite) || attempt >= this.maxSaveAttempts) {
          if (error instanceof StaleWrite) {
            throw new PaddockError('VERSION_CONFLICT', `registry of ${chunk.streamId} kept changing under chunk ${chunk.chunkId}; gave up after ${attempt} attempts`);
          }
          throw error;
        }
        conflicts += 1;
        this.hooks.onConflict?.(chunk.streamId);
        this.logger.info({ stream_id: chunk.streamId, chunk_id: chunk.chunkId, stale: error.staleIds, taken: error.takenIds, attempt }, 'registry write conflict; merging and retrying');
        pending = await this.rebase(chunk.streamId, pending, error, renumbered);
      }
    }
  }

  /** One attempt: the chunk log row, the stream's version, new horses and updates, in one transaction. */
  private async writeChunk(
    client: SqlClient,
    chunk: ChunkRecord,
    updates: HorseChunkUpdate[],
    instance: string,
    /** The encoded state (encodeTrackerState), written as it is to the row and the cache. */
    trackerState: Buffer | null,
  ): Promise<{ meta: Omit<CacheMeta, 'liveCount' | 'nextTrackingId' | 'trackerState'>; horses: StoredHorse[] } | null> {
    const logged = await client.query(
      `INSERT INTO stream_chunks (stream_id, chunk_id, sequence, start_time, duration_s, horses_seen, timings)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING chunk_id`,
      [chunk.streamId, chunk.chunkId, chunk.sequence, chunk.startTime, chunk.durationS, updates.length, JSON.stringify(chunk.timings)],
    );
    if (logged.rows.length === 0) return null;
    // Locking the stream row first serialises writers of one stream for the rest of the transaction.
    const stream = await client.query<{ registry_version: number; herd_expected_count: number | null; herd_official_ids: string[] | null }>(
      `INSERT INTO streams (stream_id, registry_version, tracker_state) VALUES ($1, 1, $2)
       ON CONFLICT (stream_id) DO UPDATE SET registry_version = streams.registry_version + 1, tracker_state = EXCLUDED.tracker_state, updated_at = now()
       RETURNING registry_version, herd_expected_count, herd_official_ids`,
      [chunk.streamId, trackerState],
    );
    const created = updates.filter((update) => update.isNew);
    const changed = updates.filter((update) => !update.isNew);
    const horses: StoredHorse[] = [];
    if (created.length > 0) {
      const inserted = await this.insertHorses(client, chunk.streamId, created);
      if (inserted.length < created.length) {
        const got = new Set(inserted.map((horse) => horse.id));
        throw new StaleWrite([], created.filter((update) => !got.has(update.id)).map((update) => update.id));
      }
      horses.push(...inserted);
    }
    if (changed.length > 0) {
      const updated = await this.updateHorses(client, chunk.streamId, changed);
      if (updated.length < changed.length) {
        const got = new Set(updated.map((horse) => horse.id));
        throw new StaleWrite(changed.filter((update) => !got.has(update.id)).map((update) => update.id), []);
      }
      horses.push(...updated);
    }
    const row = stream.rows[0]!;
    return {
      meta: { instance, registryVersion: Number(row.registry_version), herd: herdFrom(row) },
      horses,
    };
  }

  /** The stream's live horse count and next tracking number, for the cache meta. */
  private async streamCounts(streamId: string): Promise<Pick<CacheMeta, 'liveCount' | 'nextTrackingId'>> {
    const { rows } = await this.db.query<{ max_tracking_id: number | null; live_count: number }>(
      `SELECT max(tracking_id) AS max_tracking_id, count(*) FILTER (WHERE merged_into IS NULL) AS live_count FROM horses WHERE stream_id = $1`,
      [streamId],
    );
    return { nextTrackingId: Number(rows[0]?.max_tracking_id ?? 0) + 1, liveCount: Number(rows[0]?.live_count ?? 0) };
  }

  private async insertHorses(client: SqlClient, streamId: string, created: HorseChunkUpdate[]): Promise<StoredHorse[]> {
    const { binary, columns } = packUpdates(created);
    const { rows } = await client.query<HorseScalarRow>(
      `INSERT INTO horses (stream_id, id, tracking_id, color, feature_dim, feature_first, feature_mean, feature_exemplars,
                           feature_exemplar_count, last_box, avatar_thumbnail, thumbnail_quality, first_detected, last_seen,
                           total_detections, confidence_score, version)
       SELECT $1, u.id, u.tracking_id, u.color, u.dim,
              ${FIRST_SQL}, ${MEAN_SQL}, ${EXEMPLARS_SQL}, u.exemplar_count,
              CASE WHEN u.bx IS NULL THEN NULL ELSE ARRAY[u.bx, u.by, u.bw, u.bh] END,
              ${THUMBNAIL_SQL}, u.thumbnail_quality, u.first_seen, u.last_seen, u.detections, u.confidence, 1
         FROM unnest($4::text[], $5::int[], $6::text[], ${UNNEST_COLUMNS(7)}) AS u(id, tracking_id, color, ${UNNEST_NAMES})
       ON CONFLICT DO NOTHING
       RETURNING ${horseScalarColumns()}`,
      [streamId, ...binary, created.map((u) => u.id), created.map((u) => u.trackingId), created.map((u) => u.color), ...columns],
    );
    return withFeatures(rows, created);
  }

  private async updateHorses(client: SqlClient, streamId: string, changed: HorseChunkUpdate[]): Promise<StoredHorse[]> {
    const { binary, columns } = packUpdates(changed);
    // Counters and times are merged in SQL (commutative), so they never lose a concurrent
    // writer's contribution; the feature bank is guarded by the row version.
    const { rows } = await client.query<HorseScalarRow>(
      `WITH u AS (
         SELECT u.*, ${FIRST_SQL} AS first, ${MEAN_SQL} AS mean, ${EXEMPLARS_SQL} AS exemplars, ${THUMBNAIL_SQL} AS thumbnail
           FROM unnest($4::text[], $5::int[], ${UNNEST_COLUMNS(6)}) AS u(id, base_version, ${UNNEST_NAMES})
       )
       UPDATE horses AS h SET
         feature_mean = u.mean,
         feature_exemplars = CASE WHEN u.exemplar_count IS NULL THEN h.feature_exemplars ELSE u.exemplars END,
         feature_exemplar_count = COALESCE(u.exemplar_count, h.feature_exemplar_count),
         last_box = CASE WHEN u.last_seen >= h.last_seen AND u.bx IS NOT NULL THEN ARRAY[u.bx, u.by, u.bw, u.bh] ELSE h.last_box END,
         avatar_thumbnail = CASE WHEN u.thumbnail IS NOT NULL AND (h.avatar_thumbnail IS NULL OR u.thumbnail_quality > COALESCE(h.thumbnail_quality, -1))
                                 THEN u.thumbnail ELSE h.avatar_thumbnail END,
         thumbnail_quality = CASE WHEN u.thumbnail IS NOT NULL AND (h.avatar_thumbnail IS NULL OR u.thumbnail_quality > COALESCE(h.thumbnail_quality, -1))
                                  THEN u.thumbnail_quality ELSE h.thumbnail_quality END,
         confidence_score = CASE WHEN h.total_detections + u.detections > 0
                                 THEN (h.confidence_score * h.total_detections + u.confidence * u.detections) / (h.total_detections + u.detections)
                                 ELSE h.confidence_score END,
         total_detections = h.total_detections + u.detections,
         first_detected = LEAST(h.first_detected, u.first_seen),
         last_seen = GREATEST(h.last_seen, u.last_seen),
         version = h.version + 1,
         updated_at = now()
       FROM u
       WHERE h.stream_id = $1 AND h.id = u.id AND h.version = u.base_version AND h.merged_into IS NULL AND h.feature_dim = u.dim
       RETURNING ${horseScalarColumns('h')}`,
      [streamId, ...binary, changed.map((u) => u.id), changed.map((u) => u.baseVersion), ...columns],
    );
    return withFeatures(rows, changed);
  }

  /**
   * Brings a stale write up to date: horses another writer changed get their stored feature bank
   * merged with ours and the stored version; a horse merged away meanwhile is redirected to the
   * horse that absorbed it; new horses whose ID was taken get the next free ones.
   */
  private async rebase(
    streamId: string,
    pending: HorseChunkUpdate[],
    stale: StaleWrite,
    renumbered: Map<string, string>,
  ): Promise<HorseChunkUpdate[]> {
    const current = await this.db.query<HorseRow & { merged_into: string | null }>(
      `SELECT ${HORSE_COLUMNS}, merged_into FROM horses WHERE stream_id = $1 AND id = ANY($2::text[])`,
      [streamId, stale.staleIds],
    );
    const byId = new Map(current.rows.map((row) => [row.id, row]));
    const rebased: HorseChunkUpdate[] = [];
    for (const update of pending) {
      if (!stale.staleIds.includes(update.id)) {
        rebased.push(update);
        continue;
      }
      let row = byId.get(update.id);
      if (row === undefined) {
        // The writer's view held a horse the database never had (a stale or foreign cache):
        // write it as a new horse rather than lose what the chunk saw.
        this.logger.warn({ stream_id: streamId, horse_id: update.id }, 'horse missing from the database; saving it as new');
        await this.cache.remove(streamId, [update.id]);
        rebased.push({ ...update, isNew: true, baseVersion: 0, exemplarsChanged: true });
        continue;
      }
      if (row.merged_into !== null) {
        row = (await this.db.query<HorseRow & { merged_into: string | null }>(
          `SELECT ${HORSE_COLUMNS}, merged_into FROM horses WHERE stream_id = $1 AND id = $2`,
          [streamId, row.merged_into],
        )).rows[0];
        if (row === undefined) throw new PaddockError('INTERNAL', `horse ${streamId}/${update.id} was merged into a missing horse`);
      }
      const stored = horseFromRow(row);
      rebased.push({
        ...update,
        id: stored.id,
        trackingId: stored.trackingId,
        color: stored.color,
        baseVersion: stored.version,
        features: mergeFeatureBanks(stored.features, stored.totalDetections, update.features, update.detections, this.options.maxExemplars),
        exemplarsChanged: true,
      });
    }
    if (stale.takenIds.length === 0) return rebased;
    const state = await this.streamState(this.db, streamId);
    let next = Number(state.max_tracking_id ?? 0) + 1;
    return rebased.map((update) => {
      if (!update.isNew) return update;
      const trackingId = next;
      next += 1;
      const id = horseIdFor(trackingId);
      const original = [...renumbered.entries()].find(([, value]) => value === update.id)?.[0] ?? update.id;
      renumbered.set(original, id);
      return { ...update, id, trackingId, color: colorFor(trackingId) };
    });
  }

  async attemptStarted(streamId: string, chunkId: string): Promise<void> {
    await this.db.query(
      `INSERT INTO chunk_attempts (stream_id, chunk_id, interrupted) VALUES ($1, $2, 1)
       ON CONFLICT (stream_id, chunk_id) DO UPDATE SET interrupted = chunk_attempts.interrupted + 1, updated_at = now()`,
      [streamId, chunkId],
    );
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
      `SELECT ${HORSE_COLUMNS} FROM horses WHERE stream_id = $1 AND merged_into IS NULL ORDER BY tracking_id`,
      [streamId],
    );
    return rows.map((row) => summaryOf(horseFromRow(row)));
  }

  async rename(streamId: string, horseId: string, name: string): Promise<void> {
    const trimmed = name.trim();
    if (trimmed.length === 0 || trimmed.length > 200) throw new UsageError('a horse name must have 1 to 200 characters');
    // Names are printed in terminals and logs: no control characters (escape sequences, newlines).
    if (/\p{Cc}/u.test(trimmed)) throw new UsageError('a horse name must not contain control characters');
    await this.db.transaction(async (client) => {
      await this.bumpStream(client, streamId);
      const { rows } = await client.query(
        'UPDATE horses SET name = $3, version = version + 1, updated_at = now() WHERE stream_id = $1 AND id = $2 AND merged_into IS NULL RETURNING id',
        [streamId, horseId, trimmed],
      );
      if (rows.length === 0) throw await this.unknownHorse(client, streamId, horseId);
    });
    await this.rewarm(streamId, []);
  }

  async merge(streamId: string, keepId: string, dropId: string): Promise<MergeResult> {
    if (keepId === dropId) throw new UsageError('cannot merge a horse into itself');
    const result = await this.db.transaction(async (client) => {
      const registryVersion = await this.bumpStream(client, streamId);
      const { rows } = await client.query<HorseRow & { merged_into: string | null; avatar_thumbnail: Uint8Array | null }>(
        `SELECT ${HORSE_COLUMNS}, merged_into, avatar_thumbnail FROM horses WHERE stream_id = $1 AND id = ANY($2::text[]) FOR UPDATE`,
        [streamId, [keepId, dropId]],
      );
      const keepRow = rows.find((row) => row.id === keepId && row.merged_into === null);
      const dropRow = rows.find((row) => row.id === dropId && row.merged_into === null);
      if (keepRow === undefined) throw await this.unknownHorse(client, streamId, keepId);
      if (dropRow === undefined) throw await this.unknownHorse(client, streamId, dropId);
      const keep = horseFromRow(keepRow);
      const drop = horseFromRow(dropRow);
      const [older, newer] = keep.firstDetected <= drop.firstDetected ? [keep, drop] : [drop, keep];
      const features = mergeFeatureBanks(older.features, older.totalDetections, newer.features, newer.totalDetections, this.options.maxExemplars);
      const takeDropThumbnail =
        dropRow.avatar_thumbnail !== null && (keepRow.avatar_thumbnail === null || (drop.thumbnailQuality ?? -1) > (keep.thumbnailQuality ?? -1));
      const total = keep.totalDetections + drop.totalDetections;
      const confidence = total > 0 ? (keep.confidenceScore * keep.totalDetections + drop.confidenceScore * drop.totalDetections) / total : keep.confidenceScore;
      const newest = keep.lastSeen >= drop.lastSeen ? keep : drop;
      const encoded = encodeFeatureBank(features);
      const updated = await client.query<HorseRow>(
        `UPDATE horses SET feature_dim = $3, feature_first = $4, feature_mean = $5, feature_exemplars = $6, feature_exemplar_count = $7,
                total_detections = $8, confidence_score = $9, first_detected = $10, last_seen = $11, last_box = $12,
                avatar_thumbnail = CASE WHEN $13 THEN $14::bytea ELSE avatar_thumbnail END,
                thumbnail_quality = CASE WHEN $13 THEN $15::float8 ELSE thumbnail_quality END,
                version = version + 1, updated_at = now()
          WHERE stream_id = $1 AND id = $2 RETURNING ${HORSE_COLUMNS}`,
        [
          streamId,
          keepId,
          encoded.dim,
          encoded.first,
          encoded.mean,
          encoded.exemplars,
          encoded.exemplarCount,
          total,
          confidence,
          older.firstDetected,
          newest.lastSeen,
          newest.lastBox === null ? null : [newest.lastBox.x, newest.lastBox.y, newest.lastBox.w, newest.lastBox.h],
          takeDropThumbnail,
          takeDropThumbnail ? dropRow.avatar_thumbnail : null,
          takeDropThumbnail ? drop.thumbnailQuality : null,
        ],
      );
      await client.query(
        `UPDATE horses SET merged_into = $3, version = version + 1, updated_at = now() WHERE stream_id = $1 AND id = $2`,
        [streamId, dropId, keepId],
      );
      return { keep: horseFromRow(updated.rows[0]!), dropId, registryVersion };
    });
    await this.rewarm(streamId, [dropId]);
    return result;
  }

  async thumbnail(streamId: string, horseId: string): Promise<Buffer | null> {
    const { rows } = await this.db.query<{ avatar_thumbnail: Uint8Array | null }>(
      'SELECT avatar_thumbnail FROM horses WHERE stream_id = $1 AND id = $2 AND merged_into IS NULL',
      [streamId, horseId],
    );
    if (rows[0] === undefined) throw await this.unknownHorse(this.db, streamId, horseId);
    const bytes = rows[0].avatar_thumbnail;
    return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async prune(inactiveDays: number, now: Date = new Date()): Promise<PruneResult> {
    // 0 would drop the avatars of horses seen minutes ago.
    if (!Number.isFinite(inactiveDays) || inactiveDays < 1) throw new UsageError('--inactive-days must be at least 1');
    const cutoff = new Date(now.getTime() - inactiveDays * 86_400_000);
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
    return { thumbnailsDropped: dropped, cacheEntriesDropped, horsesInactive: inactive.length };
  }

  async setHerd(streamId: string, herd: HerdSettings | null): Promise<void> {
    if (herd !== null && (!Number.isInteger(herd.expectedCount) || herd.expectedCount < 1)) {
      throw new UsageError('the herd size must be a positive integer');
    }
    await this.db.transaction(async (client) => {
      if (herd !== null && herd.officialIds.length > 0) {
        const { rows } = await client.query<{ id: string }>(
          'SELECT id FROM horses WHERE stream_id = $1 AND id = ANY($2::text[]) AND merged_into IS NULL',
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

  private async unknownHorse(client: SqlClient, streamId: string, horseId: string): Promise<PaddockError> {
    const { rows } = await client.query<{ merged_into: string | null }>('SELECT merged_into FROM horses WHERE stream_id = $1 AND id = $2', [
      streamId,
      horseId,
    ]);
    const mergedInto = rows[0]?.merged_into;
    if (mergedInto) return new NotFoundError(`horse ${horseId} of stream ${streamId} was merged into ${mergedInto}`, { mergedInto });
    return new NotFoundError(`unknown horse ${horseId} in stream ${streamId}`);
  }

  /** After an operator change: drop stale entries, then warm the cache from the database. */
  private async rewarm(streamId: string, removedIds: string[]): Promise<void> {
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

function herdFrom(row: { herd_expected_count: number | null; herd_official_ids: string[] | null } | undefined): HerdSettings | null {
  if (row?.herd_expected_count === null || row?.herd_expected_count === undefined) return null;
  return { expectedCount: Number(row.herd_expected_count), officialIds: row.herd_official_ids ?? [] };
}

/*
 * Feature banks and thumbnails travel as two binary parameters (all horses' bytes concatenated)
 * plus per-horse offsets, cut apart with substring() in SQL: a bytea[] parameter would go over
 * the wire as hex text, twice the size and slow to parse for megabytes of vectors.
 */
const UNNEST_NAMES = `dim, exemplar_count, f_off, bx, by, bw, bh, t_off, t_len, thumbnail_quality, first_seen, last_seen, detections, confidence`;
const UNNEST_COLUMNS = (first: number) => {
  const types = ['int', 'int', 'int', 'float8', 'float8', 'float8', 'float8', 'int', 'int', 'float8', 'timestamptz', 'timestamptz', 'int', 'float8'];
  return types.map((type, i) => `$${first + i}::${type}[]`).join(', ');
};
// The two binary parameters are always $2 and $3 (after the stream ID): see packUpdates.
const FEATURES_PARAM = '$2';
const THUMBNAILS_PARAM = '$3';
const FIRST_SQL = `substring(${FEATURES_PARAM}::bytea FROM u.f_off + 1 FOR u.dim * 4)`;
const MEAN_SQL = `substring(${FEATURES_PARAM}::bytea FROM u.f_off + 1 + u.dim * 4 FOR u.dim * 4)`;
const EXEMPLARS_SQL = `substring(${FEATURES_PARAM}::bytea FROM u.f_off + 1 + u.dim * 8 FOR u.dim * 4 * u.exemplar_count)`;
const THUMBNAIL_SQL = `CASE WHEN u.t_len IS NULL THEN NULL ELSE substring(${THUMBNAILS_PARAM}::bytea FROM u.t_off + 1 FOR u.t_len) END`;

/** Written rows back as StoredHorses, with the feature banks the writes carried. */
function withFeatures(rows: HorseScalarRow[], updates: HorseChunkUpdate[]): StoredHorse[] {
  const byId = new Map(updates.map((update) => [update.id, update]));
  return rows.map((row) => horseFromScalars(row, byId.get(row.id)!.features));
}

/**
 * The two binary parameters ($2, $3) and the per-horse arrays in UNNEST_NAMES order. Unchanged
 * exemplars are left out (exemplar_count NULL keeps the stored ones).
 */
function packUpdates(updates: HorseChunkUpdate[]): { binary: [Buffer, Buffer]; columns: unknown[] } {
  const encoded = updates.map((update) => {
    const bank = encodeFeatureBank(update.features);
    return update.exemplarsChanged === false && !update.isNew ? { ...bank, exemplars: Buffer.alloc(0), exemplarCount: null } : bank;
  });
  const featureOffsets: number[] = [];
  let featureBytes = 0;
  for (const bank of encoded) {
    featureOffsets.push(featureBytes);
    featureBytes += bank.first.byteLength + bank.mean.byteLength + bank.exemplars.byteLength;
  }
  const thumbnailOffsets: number[] = [];
  let thumbnailBytes = 0;
  for (const update of updates) {
    thumbnailOffsets.push(thumbnailBytes);
    thumbnailBytes += update.thumbnail?.byteLength ?? 0;
  }
  const features = Buffer.concat(encoded.flatMap((bank) => [bank.first, bank.mean, bank.exemplars]), featureBytes);
  const thumbnails = Buffer.concat(updates.flatMap((update) => (update.thumbnail === null ? [] : [update.thumbnail])), thumbnailBytes);
  return {
    binary: [features, thumbnails],
    columns: [
      encoded.map((bank) => bank.dim),
      encoded.map((bank) => bank.exemplarCount),
      featureOffsets,
      updates.map((u) => u.lastBox?.x ?? null),
      updates.map((u) => u.lastBox?.y ?? null),
      updates.map((u) => u.lastBox?.w ?? null),
      updates.map((u) => u.lastBox?.h ?? null),
      thumbnailOffsets,
      updates.map((u) => (u.thumbnail === null ? null : u.thumbnail.byteLength)),
      updates.map((u) => u.thumbnailQuality),
      updates.map((u) => u.firstSeen),
      updates.map((u) => u.lastSeen),
      updates.map((u) => u.detections),
      updates.map((u) => u.confidence),
    ],
  };
}
