import type { HorseChunkResult } from './tracker.ts';
import type { KnownHorse } from './types.ts';

/**
 * A horse as the next chunk's tracker should know it, from this chunk's result: what the
 * registry does on persist, kept in memory (benchmarks, replays, tests).
 */
export function knownHorseAfterChunk(horse: HorseChunkResult, previous?: KnownHorse): KnownHorse {
  return {
    id: horse.id,
    trackingId: horse.trackingId,
    name: horse.name,
    color: horse.color,
    features: horse.features,
    lastBox: horse.lastBox,
    lastSeen: horse.lastSeen,
    firstDetected: previous?.firstDetected ?? horse.firstSeen,
    totalDetections: (previous?.totalDetections ?? 0) + horse.detections,
    confidenceScore: horse.meanConfidence,
  };
}
