import { z } from 'zod';
import { decodeFeatureBank, encodeFeatureBank } from './feature-codec.ts';
import type { HerdSettings, StoredHorse } from './types.ts';

/** Stream-level facts cached beside the horses, so a cache hit needs no database query. */
export interface CacheMeta {
  /** The database the entries came from (paddock_instance); entries of another are ignored. */
  instance: string;
  registryVersion: number;
  nextTrackingId: number;
  /** Number of live horses in the database; a hit needs every one of them in the cache. */
  liveCount: number;
  herd: HerdSettings | null;
  /** The stream's tracker state, encoded (encodeTrackerState) as base64; null when there is none. */
  trackerState: string | null;
}

const boxSchema = z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() });

const stateSchema = z.object({
  id: z.string().min(1),
  trackingId: z.number().int().positive(),
  name: z.string().nullable(),
  color: z.string(),
  firstDetected: z.iso.datetime(),
  lastSeen: z.iso.datetime(),
  totalDetections: z.number().int().nonnegative(),
  confidenceScore: z.number(),
  version: z.number().int().positive(),
  lastBox: boxSchema.nullable(),
  thumbnailBytes: z.number().int().nonnegative(),
  thumbnailQuality: z.number().nullable(),
  features: z.object({
    dim: z.number().int().positive(),
    // Lengths are checked on decoding; a regex over kilobytes of base64 would dominate the load.
    first: z.string(),
    mean: z.string(),
    exemplars: z.string(),
    exemplarCount: z.number().int().nonnegative(),
  }),
});

const metaSchema = z.object({
  instance: z.string().min(1),
  registryVersion: z.number().int().nonnegative(),
  nextTrackingId: z.number().int().positive(),
  liveCount: z.number().int().nonnegative(),
  herd: z.object({ expectedCount: z.number().int().positive(), officialIds: z.array(z.string()) }).nullable(),
  trackerState: z.string().nullable().default(null),
});

export class CorruptCacheEntry extends Error {
  override readonly name = 'CorruptCacheEntry';
}

export function serializeHorseState(horse: StoredHorse): string {
  const features = encodeFeatureBank(horse.features);
  return JSON.stringify({
    id: horse.id,
    trackingId: horse.trackingId,
    name: horse.name,
    color: horse.color,
    firstDetected: horse.firstDetected.toISOString(),
    lastSeen: horse.lastSeen.toISOString(),
    totalDetections: horse.totalDetections,
    confidenceScore: horse.confidenceScore,
    version: horse.version,
    lastBox: horse.lastBox,
    thumbnailBytes: horse.thumbnailBytes,
    thumbnailQuality: horse.thumbnailQuality,
    features: {
      dim: features.dim,
      first: features.first.toString('base64'),
      mean: features.mean.toString('base64'),
      exemplars: features.exemplars.toString('base64'),
      exemplarCount: features.exemplarCount,
    },
  });
}

/** Parses a cached horse state; bad JSON, a missing field or a wrong vector length is corrupt. */
export function parseHorseState(text: string, expectedId: string): StoredHorse {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CorruptCacheEntry(`horse ${expectedId}: not valid JSON`);
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) throw new CorruptCacheEntry(`horse ${expectedId}: ${parsed.error.issues[0]?.message ?? 'invalid state'}`);
  const state = parsed.data;
  if (state.id !== expectedId) throw new CorruptCacheEntry(`horse ${expectedId}: entry holds ${state.id}`);
  let features;
  try {
    features = decodeFeatureBank({
      dim: state.features.dim,
      first: Buffer.from(state.features.first, 'base64'),
      mean: Buffer.from(state.features.mean, 'base64'),
      exemplars: Buffer.from(state.features.exemplars, 'base64'),
      exemplarCount: state.features.exemplarCount,
    });
  } catch (error) {
    throw new CorruptCacheEntry(`horse ${expectedId}: ${(error as Error).message}`);
  }
  return {
    id: state.id,
    trackingId: state.trackingId,
    name: state.name,
    color: state.color,
    firstDetected: new Date(state.firstDetected),
    lastSeen: new Date(state.lastSeen),
    totalDetections: state.totalDetections,
    confidenceScore: state.confidenceScore,
    version: state.version,
    lastBox: state.lastBox,
    thumbnailBytes: state.thumbnailBytes,
    thumbnailQuality: state.thumbnailQuality,
    features,
  };
}

export function serializeMeta(meta: CacheMeta): string {
  return JSON.stringify(meta);
}

export function parseMeta(text: string): CacheMeta {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new CorruptCacheEntry('stream meta: not valid JSON');
  }
  const parsed = metaSchema.safeParse(json);
  if (!parsed.success) throw new CorruptCacheEntry(`stream meta: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}
