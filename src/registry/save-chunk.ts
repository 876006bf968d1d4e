import { PaddockError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { colorFor, encodeTrackerState, horseIdFor } from '../tracking/index.ts';
import type { CacheMeta } from './cache-entry.ts';
import type { Database, SqlClient } from './database.ts';
import { encodeFeatureBank, encodeVectors } from './feature-codec.ts';
import { mergeFeatureBanks } from './feature-merge.ts';
import { HORSE_COLUMNS, LIVE_HORSE, liveHorse, horseFromRow, horseFromScalars, horseScalarColumns, type HorseRow, type HorseScalarRow } from './horse-rows.ts';
import type { HotCache } from './hot-cache.ts';
import { enforceFence, type WriteFence } from './leases.ts';
import { herdFrom, streamState } from './stream-rows.ts';
import type { ChunkRecord, HorseChunkUpdate, SaveChunkResult, StoredHorse } from './types.ts';

export const MAX_THUMBNAIL_BYTES = 102_400;
/** The database's CHECK on horse_sightings.thumbnail (an avatar may be reused as a sighting's picture). */
export const MAX_SIGHTING_THUMBNAIL_BYTES = MAX_THUMBNAIL_BYTES;

/** What the save path takes from the store that owns it (see SqlRegistryStore). */
export interface ChunkSaverDeps {
  db: Database;
  cache: Pick<HotCache, 'remove'>;
  logger: Logger;
  maxExemplars: number;
  maxSaveAttempts: number;
  hooks: { onConflict?(streamId: string): void };
  /** This database's identity (paddock_instance), read once by the store. */
  instance(): Promise<string>;
  registryVersion(streamId: string): Promise<number>;
  /** The stream-ownership fence every write checks, when several replicas may share the streams. */
  fence(): WriteFence | null;
  /** Schedules a cache write after the commit, in order per stream (SqlRegistryStore.writeCache). */
  writeCache(streamId: string, meta: CacheMeta | (() => Promise<CacheMeta>), horses: readonly StoredHorse[], replaceIndex: boolean): void;
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

/**
 * The registry's save path: one chunk's horses written in one transaction, guarded by the rows'
 * versions; a write based on a stale view is rebased (merged, redirected, renumbered) and retried.
 */
export class ChunkSaver {
  constructor(private readonly deps: ChunkSaverDeps) {}

  async save(chunk: ChunkRecord, updates: HorseChunkUpdate[]): Promise<SaveChunkResult> {
    for (const update of updates) {
      if (update.sightingThumbnail != null && update.sightingThumbnail.byteLength > MAX_SIGHTING_THUMBNAIL_BYTES) {
        throw new PaddockError('THUMBNAIL_TOO_LARGE', `sighting thumbnail of ${chunk.streamId}/${update.id} is ${update.sightingThumbnail.byteLength} bytes; the limit is ${MAX_SIGHTING_THUMBNAIL_BYTES}`);
      }
      if (update.thumbnail !== null && update.thumbnail.byteLength > MAX_THUMBNAIL_BYTES) {
        throw new PaddockError(
          'THUMBNAIL_TOO_LARGE',
          `thumbnail of ${chunk.streamId}/${update.id} is ${update.thumbnail.byteLength} bytes; the limit is ${MAX_THUMBNAIL_BYTES}`,
        );
      }
    }
    const instance = await this.deps.instance();
    let pending = updates.map((update) => ({ ...update }));
    const renumbered = new Map<string, string>();
    let conflicts = 0;
    const encodedState = chunk.trackerState === undefined || chunk.trackerState === null ? null : encodeTrackerState(chunk.trackerState);
    for (let attempt = 1; ; attempt += 1) {
      try {
        // A renumbered horse makes the state's horse IDs wrong: drop it rather than resume from it.
        const trackerState = renumbered.size > 0 ? null : encodedState;
        const saved = await this.deps.db.transaction((client) => this.writeChunk(client, chunk, pending, instance, trackerState));
        if (saved === null) return { duplicate: true, conflicts, renumbered, registryVersion: await this.deps.registryVersion(chunk.streamId), horses: [], trackerState: null };
        // The counts for the cache meta are read after the commit, off the chunk's path.
        const cachedState = trackerState === null ? null : trackerState.toString('base64');
        this.deps.writeCache(chunk.streamId, async () => ({ ...saved.meta, trackerState: cachedState, ...(await this.streamCounts(chunk.streamId)) }), saved.horses, false);
        return { duplicate: false, conflicts, renumbered, registryVersion: saved.meta.registryVersion, horses: saved.horses, trackerState };
      } catch (error) {
        if (!(error instanceof StaleWrite) || attempt >= this.deps.maxSaveAttempts) {
          if (error instanceof StaleWrite) {
            throw new PaddockError('VERSION_CONFLICT', `registry of ${chunk.streamId} kept changing under chunk ${chunk.chunkId}; gave up after ${attempt} attempts`);
          }
          throw error;
        }
        conflicts += 1;
        this.deps.hooks.onConflict?.(chunk.streamId);
        this.deps.logger.info({ stream_id: chunk.streamId, chunk_id: chunk.chunkId, stale: error.staleIds, taken: error.takenIds, attempt }, 'registry write conflict; merging and retrying');
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
    const fence = this.deps.fence();
    await enforceFence(client, chunk.streamId, fence);
    const logged = await client.query(
      `INSERT INTO stream_chunks (stream_id, chunk_id, sequence, start_time, duration_s, horses_seen, timings, processed_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING chunk_id`,
      [chunk.streamId, chunk.chunkId, chunk.sequence, chunk.startTime, chunk.durationS, updates.length, JSON.stringify(chunk.timings), fence?.replicaId ?? null],
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
    await this.insertSightings(client, chunk, updates);
    const row = stream.rows[0]!;
    return {
      meta: { instance, registryVersion: Number(row.registry_version), herd: herdFrom(row) },
      horses,
    };
  }

  /** One timeline row per horse seen in the chunk (see migrations/010_curation.sql). */
  private async insertSightings(client: SqlClient, chunk: ChunkRecord, updates: HorseChunkUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const appearances = updates.map((update) => encodeVectors([update.features.mean], update.features.mean.length));
    const thumbnails = updates.map((update) => update.sightingThumbnail ?? null);
    const offsets = (buffers: ReadonlyArray<Buffer | null>) => {
      let at = 0;
      return buffers.map((buffer) => {
        const offset = at;
        at += buffer?.byteLength ?? 0;
        return offset;
      });
    };
    await client.query(
      `INSERT INTO horse_sightings (stream_id, horse_id, chunk_id, sequence, first_seen, last_seen, detections, confidence, box, appearance, thumbnail)
       SELECT $1, u.id, $2, $3, u.first_seen, u.last_seen, u.detections, u.confidence,
              CASE WHEN u.bx IS NULL THEN NULL ELSE ARRAY[u.bx, u.by, u.bw, u.bh] END,
              substring($4::bytea FROM u.a_off + 1 FOR u.a_len),
              CASE WHEN u.t_len IS NULL THEN NULL ELSE substring($5::bytea FROM u.t_off + 1 FOR u.t_len) END
         FROM unnest($6::text[], $7::timestamptz[], $8::timestamptz[], $9::int[], $10::float8[], $11::float8[], $12::float8[], $13::float8[], $14::float8[],
                     $15::int[], $16::int[], $17::int[], $18::int[]) AS u(id, first_seen, last_seen, detections, confidence, bx, by, bw, bh, a_off, a_len, t_off, t_len)`,
      [
        chunk.streamId,
        chunk.chunkId,
        chunk.sequence,
        Buffer.concat(appearances),
        Buffer.concat(thumbnails.filter((thumbnail): thumbnail is Buffer => thumbnail !== null)),
        updates.map((u) => u.id),
        updates.map((u) => u.firstSeen),
        updates.map((u) => u.lastSeen),
        updates.map((u) => u.detections),
        updates.map((u) => u.confidence),
        updates.map((u) => u.lastBox?.x ?? null),
        updates.map((u) => u.lastBox?.y ?? null),
        updates.map((u) => u.lastBox?.w ?? null),
        updates.map((u) => u.lastBox?.h ?? null),
        offsets(appearances),
        appearances.map((a) => a.byteLength),
        offsets(thumbnails),
        thumbnails.map((t) => (t === null ? null : t.byteLength)),
      ],
    );
  }

  /** The stream's live horse count and next tracking number, for the cache meta. */
  private async streamCounts(streamId: string): Promise<Pick<CacheMeta, 'liveCount' | 'nextTrackingId'>> {
    const { rows } = await this.deps.db.query<{ max_tracking_id: number | null; live_count: number }>(
      `SELECT max(tracking_id) AS max_tracking_id, count(*) FILTER (WHERE ${LIVE_HORSE}) AS live_count FROM horses WHERE stream_id = $1`,
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
       WHERE h.stream_id = $1 AND h.id = u.id AND h.version = u.base_version AND ${liveHorse('h')} AND h.feature_dim = u.dim
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
    const current = await this.deps.db.query<HorseRow & { merged_into: string | null; deleted_at: Date | null }>(
      `SELECT ${HORSE_COLUMNS}, merged_into, deleted_at FROM horses WHERE stream_id = $1 AND id = ANY($2::text[])`,
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
        this.deps.logger.warn({ stream_id: streamId, horse_id: update.id }, 'horse missing from the database; saving it as new');
        await this.deps.cache.remove(streamId, [update.id]);
        rebased.push({ ...update, isNew: true, baseVersion: 0, exemplarsChanged: true });
        continue;
      }
      if (row.deleted_at !== null) {
        // Deleted by an operator while the chunk was tracked: it must never come back.
        this.deps.logger.info({ stream_id: streamId, horse_id: update.id }, 'horse deleted meanwhile; its sighting in this chunk is dropped');
        continue;
      }
      if (row.merged_into !== null) {
        row = (await this.deps.db.query<HorseRow & { merged_into: string | null; deleted_at: Date | null }>(
          `SELECT ${HORSE_COLUMNS}, merged_into, deleted_at FROM horses WHERE stream_id = $1 AND id = $2`,
          [streamId, row.merged_into],
        )).rows[0];
        if (row === undefined) throw new PaddockError('INTERNAL', `horse ${streamId}/${update.id} was merged into a missing horse`);
        if (row.deleted_at !== null) continue;
      }
      const stored = horseFromRow(row);
      rebased.push({
        ...update,
        id: stored.id,
        trackingId: stored.trackingId,
        color: stored.color,
        baseVersion: stored.version,
        features: mergeFeatureBanks(stored.features, stored.totalDetections, update.features, update.detections, this.deps.maxExemplars),
        exemplarsChanged: true,
      });
    }
    if (stale.takenIds.length === 0) return rebased;
    const state = await streamState(this.deps.db, streamId);
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
