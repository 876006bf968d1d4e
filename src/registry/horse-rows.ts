import type { Box, FeatureBank } from '../tracking/index.ts';
import { decodeFeatureBank } from './feature-codec.ts';
import type { HorseSummary, StoredHorse } from './types.ts';

/** Columns that make a StoredHorse, for SELECT and RETURNING lists, optionally table-qualified. */
export function horseColumns(alias?: string): string {
  const p = alias === undefined ? '' : `${alias}.`;
  return `${p}id, ${p}tracking_id, ${p}name, ${p}color, ${p}feature_dim, ${p}feature_first, ${p}feature_mean,
    ${p}feature_exemplars, ${p}feature_exemplar_count, ${p}last_box, ${p}thumbnail_quality,
    COALESCE(octet_length(${p}avatar_thumbnail), 0) AS thumbnail_bytes, ${p}first_detected, ${p}last_seen,
    ${p}total_detections, ${p}confidence_score, ${p}version`;
}

export const HORSE_COLUMNS = horseColumns();

/** A horse the tracker may match and the registry lists: neither merged away nor deleted. */
export function liveHorse(alias?: string): string {
  const p = alias === undefined ? '' : `${alias}.`;
  return `${p}merged_into IS NULL AND ${p}deleted_at IS NULL`;
}

export const LIVE_HORSE = liveHorse();

/** The columns of a StoredHorse except its feature bank: what a write reads back. */
export function horseScalarColumns(alias?: string): string {
  const p = alias === undefined ? '' : `${alias}.`;
  return `${p}id, ${p}tracking_id, ${p}name, ${p}color, ${p}last_box, ${p}thumbnail_quality,
    COALESCE(octet_length(${p}avatar_thumbnail), 0) AS thumbnail_bytes, ${p}first_detected, ${p}last_seen,
    ${p}total_detections, ${p}confidence_score, ${p}version`;
}

export type HorseScalarRow = Omit<HorseRow, 'feature_dim' | 'feature_first' | 'feature_mean' | 'feature_exemplars' | 'feature_exemplar_count'>;

/** A written horse: the row's scalars with the feature bank the write carried. */
export function horseFromScalars(row: HorseScalarRow, features: FeatureBank): StoredHorse {
  return {
    id: row.id,
    trackingId: Number(row.tracking_id),
    name: row.name,
    color: row.color,
    features,
    lastBox: boxFrom(row.last_box),
    lastSeen: new Date(row.last_seen),
    firstDetected: new Date(row.first_detected),
    totalDetections: Number(row.total_detections),
    confidenceScore: Number(row.confidence_score),
    version: Number(row.version),
    thumbnailBytes: Number(row.thumbnail_bytes),
    thumbnailQuality: row.thumbnail_quality === null ? null : Number(row.thumbnail_quality),
  };
}

export interface HorseRow {
  id: string;
  tracking_id: number;
  name: string | null;
  color: string;
  feature_dim: number;
  feature_first: Uint8Array;
  feature_mean: Uint8Array;
  feature_exemplars: Uint8Array;
  feature_exemplar_count: number;
  last_box: number[] | null;
  thumbnail_quality: number | null;
  thumbnail_bytes: number;
  first_detected: Date;
  last_seen: Date;
  total_detections: number;
  confidence_score: number;
  version: number;
}

function boxFrom(values: number[] | null): Box | null {
  if (values === null || values.length !== 4) return null;
  const [x, y, w, h] = values.map(Number) as [number, number, number, number];
  return { x, y, w, h };
}

export function horseFromRow(row: HorseRow): StoredHorse {
  return horseFromScalars(
    row,
    decodeFeatureBank({
      dim: Number(row.feature_dim),
      first: row.feature_first,
      mean: row.feature_mean,
      exemplars: row.feature_exemplars,
      exemplarCount: Number(row.feature_exemplar_count),
    }),
  );
}

export function summaryOf(horse: StoredHorse): HorseSummary {
  return {
    id: horse.id,
    trackingId: horse.trackingId,
    name: horse.name,
    color: horse.color,
    firstDetected: horse.firstDetected,
    lastSeen: horse.lastSeen,
    totalDetections: horse.totalDetections,
    confidenceScore: horse.confidenceScore,
    thumbnailBytes: horse.thumbnailBytes,
  };
}

/** A horse's fields in the contract's JSON (`horses list --json`, and the API's horses). */
export function horseSummaryJson(horse: HorseSummary) {
  return {
    id: horse.id,
    tracking_id: horse.trackingId,
    name: horse.name,
    color: horse.color,
    first_detected: horse.firstDetected.toISOString(),
    last_seen: horse.lastSeen.toISOString(),
    total_detections: horse.totalDetections,
    confidence_score: Number(horse.confidenceScore.toFixed(4)),
  };
}
