/**
 * Operator changes to a stream's registry (the web app, the API, `paddock horses`): rename,
 * official flag, soft delete, merge, split and undo of the last merge or split. Each is one
 * transaction that moves the stream's registry version, so a running stream actor reloads the
 * registry before its next chunk.
 */
import { ConflictError, NotFoundError, UsageError } from '../errors/index.ts';
import { colorFor, horseIdFor } from '../tracking/index.ts';
import type { Database, SqlClient } from './database.ts';
import { decodeVectors, encodeFeatureBank } from './feature-codec.ts';
import { bankFromSightings, mergeFeatureBanks } from './feature-merge.ts';
import { HORSE_COLUMNS, LIVE_HORSE, horseFromRow, type HorseRow } from './horse-rows.ts';
import type { SightingColumns } from './browse.ts';
import type { MergeResult, StoredHorse } from './types.ts';

export interface SplitResult {
  changeId: number;
  created: StoredHorse;
  from: StoredHorse;
  registryVersion: number;
}

export interface UndoResult {
  changeId: number;
  kind: 'merge' | 'split';
  horseIds: string[];
  registryVersion: number;
}

export interface CurationOptions {
  maxExemplars: number;
  /** After a committed change: the stream's cache entries are rebuilt (SqlRegistryStore.rewarm). */
  afterChange(streamId: string, removedIds: string[]): Promise<void>;
}

type LockedRow = HorseRow & { merged_into: string | null; deleted_at: Date | null; avatar_thumbnail: Uint8Array | null };

/** Every column of horses, for copying a row into registry_change_horses and back. */
const ALL_HORSE_COLUMNS = `stream_id, id, tracking_id, name, color, feature_dim, feature_first, feature_mean, feature_exemplars,
  feature_exemplar_count, last_box, avatar_thumbnail, thumbnail_quality, first_detected, last_seen, total_detections,
  confidence_score, version, merged_into, created_at, updated_at, deleted_at`;

export function validHorseName(name: string): string {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 200) throw new UsageError('a horse name must have 1 to 200 characters');
  // Names are printed in terminals and logs: no control characters (escape sequences, newlines).
  if (/\p{Cc}/u.test(trimmed)) throw new UsageError('a horse name must not contain control characters');
  return trimmed;
}

export class RegistryCuration {
  constructor(
    private readonly db: Database,
    private readonly options: CurationOptions,
  ) {}

  /** Sets (or, with null, clears) a horse's display name. */
  async rename(streamId: string, horseId: string, name: string | null): Promise<number> {
    const value = name === null ? null : validHorseName(name);
    return this.change(streamId, [], async (client, registryVersion) => {
      const { rows } = await client.query(
        `UPDATE horses SET name = $3, version = version + 1, updated_at = now() WHERE stream_id = $1 AND id = $2 AND ${LIVE_HORSE} RETURNING id`,
        [streamId, horseId, value],
      );
      if (rows.length === 0) throw await unknownHorse(client, streamId, horseId);
      return registryVersion;
    });
  }

  /** Adds the horse to, or takes it from, the stream's official herd. */
  async setOfficial(streamId: string, horseId: string, official: boolean): Promise<number> {
    return this.change(streamId, [], async (client, registryVersion) => {
      await this.lockLive(client, streamId, [horseId]);
      await client.query(
        `UPDATE streams SET herd_official_ids = CASE WHEN $3 THEN array_append(array_remove(herd_official_ids, $2), $2) ELSE array_remove(herd_official_ids, $2) END
          WHERE stream_id = $1`,
        [streamId, horseId, official],
      );
      return registryVersion;
    });
  }

  /** The herd size (null: discovery mode) and, when given, the official horses. */
  async setHerd(streamId: string, expectedCount: number | null, officialIds?: readonly string[]): Promise<{ expectedCount: number | null; officialIds: string[] }> {
    if (expectedCount !== null && (!Number.isInteger(expectedCount) || expectedCount < 1)) throw new UsageError('the herd size must be a positive integer');
    return this.change(streamId, [], async (client) => {
      if (officialIds !== undefined && officialIds.length > 0) await this.lockLive(client, streamId, [...new Set(officialIds)]);
      const { rows } = await client.query<{ herd_expected_count: number | null; herd_official_ids: string[] }>(
        `UPDATE streams SET herd_expected_count = $2, herd_official_ids = COALESCE($3, herd_official_ids) WHERE stream_id = $1
         RETURNING herd_expected_count, herd_official_ids`,
        [streamId, expectedCount, officialIds === undefined ? null : [...new Set(officialIds)]],
      );
      return { expectedCount: rows[0]!.herd_expected_count === null ? null : Number(rows[0]!.herd_expected_count), officialIds: rows[0]!.herd_official_ids };
    });
  }

  /** Soft delete: the horse is hidden and never matched again; its ID is never reused. */
  async remove(streamId: string, horseId: string): Promise<number> {
    return this.change(streamId, [horseId], async (client, registryVersion) => {
      await this.lockLive(client, streamId, [horseId]);
      await client.query('UPDATE horses SET deleted_at = now(), version = version + 1, updated_at = now() WHERE stream_id = $1 AND id = $2', [streamId, horseId]);
      await client.query('UPDATE streams SET herd_official_ids = array_remove(herd_official_ids, $2) WHERE stream_id = $1', [streamId, horseId]);
      return registryVersion;
    });
  }

  /** DROP into KEEP: one horse that was registered twice. Recorded, so it can be undone. */
  async merge(streamId: string, keepId: string, dropId: string): Promise<MergeResult & { changeId: number }> {
    if (keepId === dropId) throw new UsageError('cannot merge a horse into itself');
    return this.change(streamId, [dropId], async (client, registryVersion) => {
      const rows = await this.lockLive(client, streamId, [keepId, dropId]);
      const keepRow = rows.get(keepId)!;
      const dropRow = rows.get(dropId)!;
      const changeId = await this.record(client, streamId, 'merge', [keepId, dropId]);
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
      await client.query('UPDATE horses SET merged_into = $3, version = version + 1, updated_at = now() WHERE stream_id = $1 AND id = $2', [streamId, dropId, keepId]);
      await this.moveSightings(client, streamId, changeId, dropId, keepId, null);
      await client.query('UPDATE streams SET herd_official_ids = array_remove(herd_official_ids, $2) WHERE stream_id = $1', [streamId, dropId]);
      return { keep: horseFromRow(updated.rows[0]!), dropId, registryVersion, changeId };
    });
  }

  /**
   * The picked sightings of a horse become a new horse (a wrong merge, by the tracker or by an
   * operator). Both horses' feature banks are rebuilt from their sightings' appearances.
   */
  async split(streamId: string, horseId: string, sightingIds: number[]): Promise<SplitResult> {
    const picked = [...new Set(sightingIds)];
    if (picked.length === 0) throw new UsageError('pick at least one sighting to split off');
    return this.change(streamId, [], async (client, registryVersion) => {
      const fromRow = (await this.lockLive(client, streamId, [horseId])).get(horseId)!;
      const { rows: sightings } = await client.query<SightingRow>(
        `SELECT id, sequence, first_seen, last_seen, detections, confidence, box, appearance, thumbnail FROM horse_sightings
          WHERE stream_id = $1 AND horse_id = $2 ORDER BY sequence, id`,
        [streamId, horseId],
      );
      const pickedSet = new Set(picked);
      const moving = sightings.filter((row) => pickedSet.has(Number(row.id)));
      const staying = sightings.filter((row) => !pickedSet.has(Number(row.id)));
      if (moving.length < picked.length) {
        const found = new Set(moving.map((row) => Number(row.id)));
        throw new UsageError(`sighting ${picked.filter((id) => !found.has(id)).join(', ')} is not a sighting of ${horseId}`);
      }
      if (staying.length === 0) throw new UsageError(`a split must leave ${horseId} at least one sighting`);
      const dim = Number(fromRow.feature_dim);
      const appearances = (rows: SightingRow[]) =>
        rows.filter((row) => row.appearance !== null && row.appearance.byteLength === dim * 4).map((row) => ({ appearance: decodeVectors(row.appearance!, dim, 1)[0]!, detections: Number(row.detections) }));
      const movingLooks = appearances(moving);
      if (movingLooks.length === 0) throw new UsageError('the picked sightings carry no appearance to build a horse from');
      const stayingLooks = appearances(staying);
      const { rows: next } = await client.query<{ next: number }>('SELECT COALESCE(max(tracking_id), 0) + 1 AS next FROM horses WHERE stream_id = $1', [streamId]);
      const trackingId = Number(next[0]!.next);
      const createdId = horseIdFor(trackingId);
      // Only the existing horse has a row to keep (the new one does not exist yet).
      const changeId = await this.record(client, streamId, 'split', [horseId, createdId]);
      const detections = moving.reduce((sum, row) => sum + Number(row.detections), 0);
      const confidence = detections > 0 ? moving.reduce((sum, row) => sum + Number(row.confidence) * Number(row.detections), 0) / detections : 0;
      const last = moving[moving.length - 1]!;
      const bestThumbnail = [...moving].reverse().find((row) => row.thumbnail !== null)?.thumbnail ?? null;
      const bank = encodeFeatureBank(bankFromSightings(movingLooks, this.options.maxExemplars));
      const inserted = await client.query<HorseRow>(
        `INSERT INTO horses (stream_id, id, tracking_id, color, feature_dim, feature_first, feature_mean, feature_exemplars, feature_exemplar_count,
                             last_box, avatar_thumbnail, thumbnail_quality, first_detected, last_seen, total_detections, confidence_score, version)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, NULL, $12, $13, $14, $15, 1) RETURNING ${HORSE_COLUMNS}`,
        [
          streamId,
          createdId,
          trackingId,
          colorFor(trackingId),
          bank.dim,
          bank.first,
          bank.mean,
          bank.exemplars,
          bank.exemplarCount,
          last.box,
          bestThumbnail,
          moving[0]!.first_seen,
          last.last_seen,
          detections,
          confidence,
        ],
      );
      const remaining = stayingLooks.length > 0 ? encodeFeatureBank(bankFromSightings(stayingLooks, this.options.maxExemplars)) : null;
      const updated = await client.query<HorseRow>(
        `UPDATE horses SET total_detections = GREATEST(total_detections - $3, 0),
                feature_first = COALESCE($4, feature_first), feature_mean = COALESCE($5, feature_mean),
                feature_exemplars = COALESCE($6, feature_exemplars), feature_exemplar_count = COALESCE($7, feature_exemplar_count),
                version = version + 1, updated_at = now()
          WHERE stream_id = $1 AND id = $2 RETURNING ${HORSE_COLUMNS}`,
        [streamId, horseId, detections, remaining?.first ?? null, remaining?.mean ?? null, remaining?.exemplars ?? null, remaining?.exemplarCount ?? null],
      );
      await this.moveSightings(client, streamId, changeId, horseId, createdId, picked);
      return { changeId, created: horseFromRow(inserted.rows[0]!), from: horseFromRow(updated.rows[0]!), registryVersion };
    });
  }

  /**
   * Undoes the stream's last merge or split not undone yet. A merge: the dropped horse comes back
   * as it was, the kept one gets its own feature bank and thumbnail back (sightings since the
   * merge stay with it). A split: the new horse goes back into the one it came from.
   */
  async undo(streamId: string): Promise<UndoResult> {
    // An undone split removes its new horse (merged back); an undone merge removes nobody.
    const removed = (undone: UndoResult) => (undone.kind === 'split' ? [undone.horseIds[1]!] : []);
    return this.change(streamId, removed, async (client, registryVersion) => {
      const { rows } = await client.query<{ id: number; kind: 'merge' | 'split'; horse_ids: string[]; sighting_ids: number[] }>(
        'SELECT id, kind, horse_ids, sighting_ids FROM registry_changes WHERE stream_id = $1 AND undone_at IS NULL ORDER BY id DESC LIMIT 1 FOR UPDATE',
        [streamId],
      );
      const change = rows[0];
      if (change === undefined) throw new ConflictError(`stream ${streamId} has no merge or split left to undo`);
      const changeId = Number(change.id);
      const [first, second] = change.horse_ids as [string, string];
      if (change.kind === 'merge') {
        await this.undoMerge(client, streamId, changeId, first, second, change.sighting_ids.map(Number));
      } else {
        await this.undoSplit(client, streamId, changeId, first, second);
      }
      await client.query('UPDATE registry_changes SET undone_at = now() WHERE id = $1', [changeId]);
      return { changeId, kind: change.kind, horseIds: [first, second], registryVersion };
    });
  }

  private async undoMerge(client: SqlClient, streamId: string, changeId: number, keepId: string, dropId: string, sightingIds: number[]): Promise<void> {
    const { rows } = await client.query<{ id: string; merged_into: string | null; deleted_at: Date | null }>(
      'SELECT id, merged_into, deleted_at FROM horses WHERE stream_id = $1 AND id = ANY($2::text[]) FOR UPDATE',
      [streamId, [keepId, dropId]],
    );
    const keep = rows.find((row) => row.id === keepId);
    const drop = rows.find((row) => row.id === dropId);
    if (keep === undefined || keep.merged_into !== null || keep.deleted_at !== null || drop?.merged_into !== keepId) {
      throw new ConflictError(`cannot undo the merge of ${dropId} into ${keepId}: the registry changed since`);
    }
    // The dropped horse exactly as it was; the kept one gets its own bank and avatar back, while
    // detections and sightings it gained since the merge stay with it.
    await client.query(
      `UPDATE horses h SET (name, color, feature_dim, feature_first, feature_mean, feature_exemplars, feature_exemplar_count, last_box,
                            avatar_thumbnail, thumbnail_quality, first_detected, last_seen, total_detections, confidence_score, merged_into, deleted_at)
                         = (s.name, s.color, s.feature_dim, s.feature_first, s.feature_mean, s.feature_exemplars, s.feature_exemplar_count, s.last_box,
                            s.avatar_thumbnail, s.thumbnail_quality, s.first_detected, s.last_seen, s.total_detections, s.confidence_score, NULL, NULL),
              version = h.version + 1, updated_at = now()
         FROM registry_change_horses s WHERE s.change_id = $3 AND s.stream_id = h.stream_id AND s.id = h.id AND h.stream_id = $1 AND h.id = $2`,
      [streamId, dropId, changeId],
    );
    await client.query(
      `UPDATE horses h SET (feature_dim, feature_first, feature_mean, feature_exemplars, feature_exemplar_count, avatar_thumbnail, thumbnail_quality, first_detected)
                         = (s.feature_dim, s.feature_first, s.feature_mean, s.feature_exemplars, s.feature_exemplar_count, s.avatar_thumbnail, s.thumbnail_quality, s.first_detected),
              total_detections = GREATEST(h.total_detections - d.total_detections, s.total_detections),
              version = h.version + 1, updated_at = now()
         FROM registry_change_horses s, registry_change_horses d
        WHERE s.change_id = $3 AND s.stream_id = h.stream_id AND s.id = h.id AND d.change_id = $3 AND d.stream_id = h.stream_id AND d.id = $4
          AND h.stream_id = $1 AND h.id = $2`,
      [streamId, keepId, changeId, dropId],
    );
    await client.query('UPDATE horse_sightings SET horse_id = $2 WHERE stream_id = $1 AND id = ANY($3::bigint[])', [streamId, dropId, sightingIds]);
  }

  private async undoSplit(client: SqlClient, streamId: string, changeId: number, fromId: string, createdId: string): Promise<void> {
    const rows = await this.lockLive(client, streamId, [fromId, createdId]).catch(() => {
      throw new ConflictError(`cannot undo the split of ${createdId} from ${fromId}: the registry changed since`);
    });
    const created = horseFromRow(rows.get(createdId)!);
    await client.query(
      `UPDATE horses h SET (feature_dim, feature_first, feature_mean, feature_exemplars, feature_exemplar_count)
                         = (s.feature_dim, s.feature_first, s.feature_mean, s.feature_exemplars, s.feature_exemplar_count),
              total_detections = h.total_detections + $4, last_seen = GREATEST(h.last_seen, $5),
              version = h.version + 1, updated_at = now()
         FROM registry_change_horses s WHERE s.change_id = $3 AND s.stream_id = h.stream_id AND s.id = h.id AND h.stream_id = $1 AND h.id = $2`,
      [streamId, fromId, changeId, created.totalDetections, created.lastSeen],
    );
    await client.query('UPDATE horses SET merged_into = $3, version = version + 1, updated_at = now() WHERE stream_id = $1 AND id = $2', [streamId, createdId, fromId]);
    await client.query('UPDATE horse_sightings SET horse_id = $3 WHERE stream_id = $1 AND horse_id = $2', [streamId, createdId, fromId]);
    await client.query('UPDATE streams SET herd_official_ids = array_remove(herd_official_ids, $2) WHERE stream_id = $1', [streamId, createdId]);
  }

  /** Runs one change in a transaction that first moves the stream's registry version; then refreshes the cache. */
  private async change<T>(streamId: string, removedIds: string[] | ((result: T) => string[]), work: (client: SqlClient, registryVersion: number) => Promise<T>): Promise<T> {
    const result = await this.db.transaction(async (client) => {
      const { rows } = await client.query<{ registry_version: number }>(
        `INSERT INTO streams (stream_id, registry_version) VALUES ($1, 1)
         ON CONFLICT (stream_id) DO UPDATE SET registry_version = streams.registry_version + 1, updated_at = now()
         RETURNING registry_version`,
        [streamId],
      );
      return work(client, Number(rows[0]!.registry_version));
    });
    await this.options.afterChange(streamId, typeof removedIds === 'function' ? removedIds(result) : removedIds);
    return result;
  }

  /** Locks live horses (FOR UPDATE); NOT_FOUND names a missing, merged or deleted one. */
  private async lockLive(client: SqlClient, streamId: string, ids: string[]): Promise<Map<string, LockedRow>> {
    const { rows } = await client.query<LockedRow>(
      `SELECT ${HORSE_COLUMNS}, merged_into, deleted_at, avatar_thumbnail FROM horses WHERE stream_id = $1 AND id = ANY($2::text[]) FOR UPDATE`,
      [streamId, ids],
    );
    const byId = new Map(rows.filter((row) => row.merged_into === null && row.deleted_at === null).map((row) => [row.id, row]));
    for (const id of ids) if (!byId.has(id)) throw await unknownHorse(client, streamId, id);
    return byId;
  }

  /** A change row with the rows of the horses it touches as they are now. */
  private async record(client: SqlClient, streamId: string, kind: 'merge' | 'split', horseIds: string[]): Promise<number> {
    const { rows } = await client.query<{ id: number }>('INSERT INTO registry_changes (stream_id, kind, horse_ids) VALUES ($1, $2, $3) RETURNING id', [streamId, kind, horseIds]);
    const changeId = Number(rows[0]!.id);
    await client.query(
      `INSERT INTO registry_change_horses (change_id, ${ALL_HORSE_COLUMNS}) SELECT $1, ${ALL_HORSE_COLUMNS} FROM horses WHERE stream_id = $2 AND id = ANY($3::text[])`,
      [changeId, streamId, horseIds],
    );
    return changeId;
  }

  /** Moves sightings (all of the horse's when `ids` is null) and records which, for undo. */
  private async moveSightings(client: SqlClient, streamId: string, changeId: number, fromId: string, toId: string, ids: number[] | null): Promise<void> {
    const { rows } = await client.query<{ id: number }>(
      `UPDATE horse_sightings SET horse_id = $3 WHERE stream_id = $1 AND horse_id = $2 AND ($4::bigint[] IS NULL OR id = ANY($4::bigint[])) RETURNING id`,
      [streamId, fromId, toId, ids],
    );
    await client.query('UPDATE registry_changes SET sighting_ids = $2 WHERE id = $1', [changeId, rows.map((row) => Number(row.id))]);
  }
}

interface SightingRow extends SightingColumns {
  appearance: Uint8Array | null;
  thumbnail: Uint8Array | null;
}

export async function unknownHorse(client: SqlClient, streamId: string, horseId: string): Promise<NotFoundError> {
  const { rows } = await client.query<{ merged_into: string | null; deleted_at: Date | null }>('SELECT merged_into, deleted_at FROM horses WHERE stream_id = $1 AND id = $2', [
    streamId,
    horseId,
  ]);
  const row = rows[0];
  if (row?.merged_into) return new NotFoundError(`horse ${horseId} of stream ${streamId} was merged into ${row.merged_into}`, { mergedInto: row.merged_into });
  if (row?.deleted_at) return new NotFoundError(`horse ${horseId} of stream ${streamId} was deleted`);
  return new NotFoundError(`unknown horse ${horseId} in stream ${streamId}`);
}
