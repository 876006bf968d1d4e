/** Read-only views of the registry for the API and the web app: streams, horses, timelines. */
import type { Box } from '../tracking/index.ts';
import type { SqlClient } from './database.ts';
import { unknownHorse } from './curation.ts';
import { liveHorse } from './horse-rows.ts';
import type { HorseSummary } from './types.ts';

export interface StreamOverview {
  streamId: string;
  /** Live horses (not merged away, not deleted). */
  horses: number;
  registryVersion: number;
  /** The declared herd size (null: discovery mode) and the horses marked official. */
  expectedCount: number | null;
  officialIds: string[];
  lastChunk: { chunkId: string; sequence: number; processedAt: Date } | null;
}

export interface HorseListing extends HorseSummary {
  version: number;
  deleted: boolean;
  /** Seen in the stream's latest processed chunk. */
  present: boolean;
  official: boolean;
}

export interface Sighting {
  id: number;
  chunkId: string;
  sequence: number;
  firstSeen: Date;
  lastSeen: Date;
  detections: number;
  confidence: number;
  box: Box | null;
  hasThumbnail: boolean;
}

export interface HorseDetail extends HorseListing {
  sightings: Sighting[];
  /** Up to EXEMPLARS sightings with thumbnails, spread evenly over the horse's history. */
  exemplarSightingIds: number[];
  /** Horses merged into this one. */
  mergedFrom: string[];
}

const EXEMPLARS = 8;

/** horse_sightings columns as read (the binary ones are read only where needed). */
export interface SightingColumns {
  id: number;
  sequence: number;
  first_seen: Date;
  last_seen: Date;
  detections: number;
  confidence: number;
  box: number[] | null;
}

interface StreamRow {
  stream_id: string;
  registry_version: number;
  herd_expected_count: number | null;
  herd_official_ids: string[] | null;
  horses: number;
  chunk_id: string | null;
  sequence: number | null;
  processed_at: Date | null;
}

interface ListingRow {
  id: string;
  tracking_id: number;
  name: string | null;
  color: string;
  first_detected: Date;
  last_seen: Date;
  total_detections: number;
  confidence_score: number;
  thumbnail_bytes: number;
  version: number;
  deleted: boolean;
  present: boolean;
  official: boolean;
}

const STREAM_SELECT = `
  SELECT s.stream_id, s.registry_version, s.herd_expected_count, s.herd_official_ids,
         (SELECT count(*) FROM horses h WHERE h.stream_id = s.stream_id AND ${liveHorse('h')}) AS horses,
         c.chunk_id, c.sequence, c.processed_at
    FROM streams s
    LEFT JOIN LATERAL (SELECT chunk_id, sequence, processed_at FROM stream_chunks WHERE stream_id = s.stream_id ORDER BY sequence DESC LIMIT 1) c ON true`;

const LISTING_COLUMNS = `h.id, h.tracking_id, h.name, h.color, h.first_detected, h.last_seen, h.total_detections, h.confidence_score,
  COALESCE(octet_length(h.avatar_thumbnail), 0) AS thumbnail_bytes, h.version, h.deleted_at IS NOT NULL AS deleted,
  EXISTS (SELECT 1 FROM horse_sightings v WHERE v.stream_id = h.stream_id AND v.horse_id = h.id
                 AND v.sequence = (SELECT max(sequence) FROM stream_chunks WHERE stream_id = h.stream_id)) AS present,
  h.id = ANY(COALESCE((SELECT herd_official_ids FROM streams s WHERE s.stream_id = h.stream_id), '{}')) AS official`;

export class RegistryBrowser {
  constructor(private readonly db: SqlClient) {}

  async streams(): Promise<StreamOverview[]> {
    const { rows } = await this.db.query<StreamRow>(`${STREAM_SELECT} ORDER BY s.stream_id`);
    return rows.map(streamFrom);
  }

  /** The stream, or null when it has never been written. */
  async stream(streamId: string): Promise<StreamOverview | null> {
    const { rows } = await this.db.query<StreamRow>(`${STREAM_SELECT} WHERE s.stream_id = $1`, [streamId]);
    return rows[0] === undefined ? null : streamFrom(rows[0]);
  }

  /** The stream's horses by tracking number; deleted ones only when asked for. */
  async horses(streamId: string, options: { includeDeleted?: boolean } = {}): Promise<HorseListing[]> {
    const { rows } = await this.db.query<ListingRow>(
      `SELECT ${LISTING_COLUMNS} FROM horses h WHERE h.stream_id = $1 AND h.merged_into IS NULL AND ($2 OR h.deleted_at IS NULL) ORDER BY h.tracking_id`,
      [streamId, options.includeDeleted === true],
    );
    return rows.map(listingFrom);
  }

  /** One live or deleted horse with its newest sightings; NOT_FOUND for an unknown or merged-away one. */
  async horse(streamId: string, horseId: string, options: { sightings: number }): Promise<HorseDetail> {
    const { rows } = await this.db.query<ListingRow>(`SELECT ${LISTING_COLUMNS} FROM horses h WHERE h.stream_id = $1 AND h.id = $2 AND h.merged_into IS NULL`, [
      streamId,
      horseId,
    ]);
    if (rows[0] === undefined) throw await unknownHorse(this.db, streamId, horseId);
    const [sightings, exemplars, mergedFrom] = await Promise.all([
      this.db.query<SightingColumns & { chunk_id: string; has_thumbnail: boolean }>(
        `SELECT id, chunk_id, sequence, first_seen, last_seen, detections, confidence, box, thumbnail IS NOT NULL AS has_thumbnail
           FROM horse_sightings WHERE stream_id = $1 AND horse_id = $2 ORDER BY sequence DESC, id DESC LIMIT $3`,
        [streamId, horseId, options.sightings],
      ),
      this.db.query<{ id: number }>(
        `SELECT DISTINCT ON (bucket) id FROM (
           SELECT id, sequence, ntile(${EXEMPLARS}) OVER (ORDER BY sequence) AS bucket
             FROM horse_sightings WHERE stream_id = $1 AND horse_id = $2 AND thumbnail IS NOT NULL) AS spread
          ORDER BY bucket, sequence DESC`,
        [streamId, horseId],
      ),
      this.db.query<{ id: string }>('SELECT id FROM horses WHERE stream_id = $1 AND merged_into = $2 ORDER BY tracking_id', [streamId, horseId]),
    ]);
    return {
      ...listingFrom(rows[0]),
      sightings: sightings.rows.map((row) => ({
        id: Number(row.id),
        chunkId: row.chunk_id,
        sequence: Number(row.sequence),
        firstSeen: new Date(row.first_seen),
        lastSeen: new Date(row.last_seen),
        detections: Number(row.detections),
        confidence: Number(row.confidence),
        box: row.box === null ? null : { x: Number(row.box[0]), y: Number(row.box[1]), w: Number(row.box[2]), h: Number(row.box[3]) },
        hasThumbnail: row.has_thumbnail,
      })),
      exemplarSightingIds: exemplars.rows.map((row) => Number(row.id)),
      mergedFrom: mergedFrom.rows.map((row) => row.id),
    };
  }

  /** A sighting's JPEG, or null when it has none; NOT_FOUND for an unknown sighting. */
  async sightingThumbnail(streamId: string, sightingId: number): Promise<Buffer | null> {
    const { rows } = await this.db.query<{ thumbnail: Uint8Array | null }>('SELECT thumbnail FROM horse_sightings WHERE stream_id = $1 AND id = $2', [streamId, sightingId]);
    if (rows[0] === undefined) return null;
    const bytes = rows[0].thumbnail;
    return bytes === null ? null : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
}

function streamFrom(row: StreamRow): StreamOverview {
  return {
    streamId: row.stream_id,
    horses: Number(row.horses),
    registryVersion: Number(row.registry_version),
    expectedCount: row.herd_expected_count === null ? null : Number(row.herd_expected_count),
    officialIds: row.herd_official_ids ?? [],
    lastChunk: row.chunk_id === null ? null : { chunkId: row.chunk_id, sequence: Number(row.sequence), processedAt: new Date(row.processed_at!) },
  };
}

function listingFrom(row: ListingRow): HorseListing {
  return {
    id: row.id,
    trackingId: Number(row.tracking_id),
    name: row.name,
    color: row.color,
    firstDetected: new Date(row.first_detected),
    lastSeen: new Date(row.last_seen),
    totalDetections: Number(row.total_detections),
    confidenceScore: Number(row.confidence_score),
    thumbnailBytes: Number(row.thumbnail_bytes),
    version: Number(row.version),
    deleted: row.deleted,
    present: row.present,
    official: row.official,
  };
}
