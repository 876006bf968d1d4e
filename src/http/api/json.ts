/** The API's JSON shapes (docs/api.md), from the registry's views, with their JSON schemas for the OpenAPI document. */
import { horseSummaryJson, type HorseDetail, type HorseListing, type StreamOverview } from '../../registry/index.ts';

const enc = encodeURIComponent;

export function thumbnailUrl(streamId: string, horse: Pick<HorseListing, 'id' | 'thumbnailBytes' | 'version'>): string | null {
  return horse.thumbnailBytes > 0 ? `/api/streams/${enc(streamId)}/horses/${enc(horse.id)}/thumbnail?v=${horse.version}` : null;
}

export function sightingThumbnailUrl(streamId: string, sightingId: number): string {
  return `/api/streams/${enc(streamId)}/sightings/${sightingId}/thumbnail`;
}

export function herdJson(stream: Pick<StreamOverview, 'expectedCount' | 'officialIds'> | null): { expected_count: number | null; official_ids: string[] } | null {
  if (stream === null || (stream.expectedCount === null && stream.officialIds.length === 0)) return null;
  return { expected_count: stream.expectedCount, official_ids: stream.officialIds };
}

export function streamJson(stream: StreamOverview, now: Date = new Date()) {
  return {
    stream_id: stream.streamId,
    horses: stream.horses,
    registry_version: stream.registryVersion,
    last_chunk:
      stream.lastChunk === null
        ? null
        : { chunk_id: stream.lastChunk.chunkId, sequence: stream.lastChunk.sequence, processed_at: stream.lastChunk.processedAt.toISOString() },
    lag_s: stream.lastChunk === null ? null : Math.max(0, (now.getTime() - stream.lastChunk.processedAt.getTime()) / 1000),
    herd: herdJson(stream),
  };
}

export function horseJson(streamId: string, horse: HorseListing) {
  return {
    ...horseSummaryJson(horse),
    thumbnail_url: thumbnailUrl(streamId, horse),
    status: horse.deleted ? 'deleted' : horse.present ? 'present' : 'away',
    official: horse.official,
    version: horse.version,
  };
}

export function horseDetailJson(streamId: string, horse: HorseDetail) {
  return {
    ...horseJson(streamId, horse),
    sightings: horse.sightings.map((sighting) => ({
      id: sighting.id,
      chunk_id: sighting.chunkId,
      sequence: sighting.sequence,
      first_seen: sighting.firstSeen.toISOString(),
      last_seen: sighting.lastSeen.toISOString(),
      detections: sighting.detections,
      confidence: Number(sighting.confidence.toFixed(4)),
      box: sighting.box,
      thumbnail_url: sighting.hasThumbnail ? sightingThumbnailUrl(streamId, sighting.id) : null,
    })),
    exemplars: horse.exemplarSightingIds.map((id) => ({ sighting_id: id, thumbnail_url: sightingThumbnailUrl(streamId, id) })),
    merged_from: horse.mergedFrom,
  };
}

// --- JSON schemas (request validation, response serialisation, the OpenAPI document) ---------

const nullableString = { type: ['string', 'null'] } as const;
const timestamp = { type: 'string', format: 'date-time' } as const;

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' } } } },
} as const;

export const herdSchema = {
  type: ['object', 'null'],
  required: ['expected_count', 'official_ids'],
  properties: { expected_count: { type: ['integer', 'null'] }, official_ids: { type: 'array', items: { type: 'string' } } },
} as const;

export const streamSchema = {
  type: 'object',
  required: ['stream_id', 'horses', 'registry_version', 'last_chunk', 'lag_s', 'herd'],
  properties: {
    stream_id: { type: 'string' },
    horses: { type: 'integer' },
    registry_version: { type: 'integer' },
    last_chunk: {
      type: ['object', 'null'],
      required: ['chunk_id', 'sequence', 'processed_at'],
      properties: { chunk_id: { type: 'string' }, sequence: { type: 'integer' }, processed_at: timestamp },
    },
    lag_s: { type: ['number', 'null'] },
    herd: herdSchema,
  },
} as const;

const horseProperties = {
  id: { type: 'string' },
  tracking_id: { type: 'integer' },
  name: nullableString,
  color: { type: 'string' },
  first_detected: timestamp,
  last_seen: timestamp,
  total_detections: { type: 'integer' },
  confidence_score: { type: 'number' },
  thumbnail_url: nullableString,
  status: { type: 'string', enum: ['present', 'away', 'deleted'] },
  official: { type: 'boolean' },
  version: { type: 'integer' },
} as const;

export const horseSchema = { type: 'object', required: Object.keys(horseProperties), properties: horseProperties } as const;

const boxSchema = {
  type: ['object', 'null'],
  required: ['x', 'y', 'w', 'h'],
  properties: { x: { type: 'number' }, y: { type: 'number' }, w: { type: 'number' }, h: { type: 'number' } },
} as const;

export const horseDetailSchema = {
  type: 'object',
  required: [...Object.keys(horseProperties), 'sightings', 'exemplars', 'merged_from'],
  properties: {
    ...horseProperties,
    sightings: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'chunk_id', 'sequence', 'first_seen', 'last_seen', 'detections', 'confidence', 'box', 'thumbnail_url'],
        properties: {
          id: { type: 'integer' },
          chunk_id: { type: 'string' },
          sequence: { type: 'integer' },
          first_seen: timestamp,
          last_seen: timestamp,
          detections: { type: 'integer' },
          confidence: { type: 'number' },
          box: boxSchema,
          thumbnail_url: nullableString,
        },
      },
    },
    exemplars: {
      type: 'array',
      items: { type: 'object', required: ['sighting_id', 'thumbnail_url'], properties: { sighting_id: { type: 'integer' }, thumbnail_url: { type: 'string' } } },
    },
    merged_from: { type: 'array', items: { type: 'string' } },
  },
} as const;
