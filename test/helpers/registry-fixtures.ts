import type { HorseChunkUpdate } from '../../src/registry/types.ts';
import { mulberry32 } from '../../src/synth/random.ts';
import { colorFor, horseIdFor, type FeatureBank } from '../../src/tracking/types.ts';

export function randomUnitVector(dim: number, random: () => number): Float32Array {
  const vector = new Float32Array(dim);
  let norm = 0;
  for (let i = 0; i < dim; i += 1) {
    vector[i] = random() * 2 - 1;
    norm += vector[i]! * vector[i]!;
  }
  norm = Math.sqrt(norm);
  for (let i = 0; i < dim; i += 1) vector[i] = vector[i]! / norm;
  return vector;
}

export function featureBank(dim: number, seed: number, exemplars = 8): FeatureBank {
  const random = mulberry32(seed);
  return {
    first: randomUnitVector(dim, random),
    mean: randomUnitVector(dim, random),
    exemplars: Array.from({ length: exemplars }, () => randomUnitVector(dim, random)),
  };
}

export function newHorseUpdate(trackingId: number, options: Partial<HorseChunkUpdate> & { dim?: number; seenAt?: Date } = {}): HorseChunkUpdate {
  const seenAt = options.seenAt ?? new Date('2026-11-20T10:00:00Z');
  const { dim = 64, seenAt: _seenAt, ...overrides } = options;
  return {
    id: horseIdFor(trackingId),
    trackingId,
    color: colorFor(trackingId),
    isNew: true,
    baseVersion: 0,
    detections: 10,
    confidence: 0.8,
    firstSeen: seenAt,
    lastSeen: new Date(seenAt.getTime() + 9000),
    features: featureBank(dim, trackingId),
    lastBox: { x: 10 * trackingId, y: 20, w: 100, h: 80 },
    thumbnail: null,
    thumbnailQuality: null,
    ...overrides,
  };
}

export function chunk(streamId: string, sequence: number, timings: Record<string, number> = {}) {
  return {
    streamId,
    chunkId: `${streamId}-chunk-${String(sequence).padStart(4, '0')}`,
    sequence,
    startTime: new Date(Date.UTC(2026, 10, 20, 10, 0, sequence * 10)),
    durationS: 10,
    timings,
  };
}

/** Bit-level equality of float32 vectors (distinguishes -0 from 0 and NaN payloads). */
export function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  return ua.every((value, i) => value === ub[i]);
}
