import type { ChunkEvent } from '../../machines/types.ts';
import { overheadRatio } from '../metrics/index.ts';
import type { HorseChunkUpdate, RegistrySnapshot, RegistryStore, SaveChunkResult, StoredHorse } from '../registry/index.ts';
import { decodeTrackerState } from '../tracking/index.ts';
import type { ChunkOutcome, ChunkResultJson, ChunkTimings, PersistedChunk } from './types.ts';

function sameVectors(a: readonly Float32Array[], b: readonly Float32Array[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((vector, i) => {
    const other = b[i]!;
    if (vector.length !== other.length) return false;
    for (let k = 0; k < vector.length; k += 1) if (!Object.is(vector[k], other[k])) return false;
    return true;
  });
}

/** The tracker's per-horse results as registry writes, based on the versions the registry had. */
export function horseUpdatesOf(outcome: ChunkOutcome, registry: RegistrySnapshot): HorseChunkUpdate[] {
  const known = new Map(registry.horses.map((horse) => [horse.id, horse]));
  return outcome.tracking.horses.map((horse) => {
    const stored = known.get(horse.id);
    const thumbnail = outcome.thumbnails.get(horse.id);
    return {
      id: horse.id,
      trackingId: horse.trackingId,
      color: horse.color,
      isNew: stored === undefined,
      baseVersion: stored?.version ?? 0,
      detections: horse.detections,
      confidence: horse.meanConfidence,
      firstSeen: horse.firstSeen,
      lastSeen: horse.lastSeen,
      features: horse.features,
      exemplarsChanged: stored === undefined || !sameVectors(stored.features.exemplars, horse.features.exemplars),
      lastBox: horse.lastBox,
      thumbnail: thumbnail?.jpeg ?? null,
      thumbnailQuality: thumbnail?.quality ?? null,
      sightingThumbnail: outcome.sightingThumbnails.get(horse.id) ?? null,
    };
  });
}

/**
 * The registry after a save, without reading it back: the saved horses replace their old
 * entries. When the save had to merge with another writer's changes, untouched horses may be
 * stale too, so the snapshot is marked (version −1) and the next chunk reloads it.
 */
export function registryAfterSave(registry: RegistrySnapshot, saved: SaveChunkResult, outcome: Pick<ChunkOutcome, 'tracking'>): RegistrySnapshot {
  const nextTrackingId = outcome.tracking.nextTrackingId;
  const byId = new Map<string, StoredHorse>(registry.horses.map((horse) => [horse.id, horse]));
  for (const horse of saved.horses) byId.set(horse.id, horse);
  const horses = [...byId.values()].sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime() || a.trackingId - b.trackingId);
  const clean = saved.conflicts === 0 && saved.renumbered.size === 0 && saved.registryVersion === registry.registryVersion + 1;
  return {
    ...registry,
    horses,
    nextTrackingId: Math.max(registry.nextTrackingId, nextTrackingId, ...horses.map((horse) => horse.trackingId + 1)),
    registryVersion: clean ? saved.registryVersion : -1,
    // Decoded from what was stored, so the next chunk resumes exactly as it would after a restart.
    trackerState: saved.trackerState === null ? null : decodeTrackerState(saved.trackerState),
  };
}

const round = (value: number, digits = 3) => Number(value.toFixed(digits));

export function chunkResultJson(event: ChunkEvent, outcome: ChunkOutcome, saved: SaveChunkResult | null): ChunkResultJson {
  const savedById = new Map((saved?.horses ?? []).map((horse) => [horse.id, horse]));
  const renamed = saved?.renumbered ?? new Map<string, string>();
  const timings = Object.fromEntries(Object.entries(outcome.timings).map(([stage, ms]) => [stage, round(ms)])) as ChunkTimings;
  return {
    stream_id: event.streamId,
    chunk_id: event.chunkId,
    horses: outcome.tracking.horses.map((horse): ChunkResultJson['horses'][number] => {
      const id = renamed.get(horse.id) ?? horse.id;
      const stored = savedById.get(id);
      return {
        id,
        tracking_id: stored?.trackingId ?? horse.trackingId,
        status: horse.status,
        detections: horse.detections,
        confidence: round(horse.meanConfidence, 4),
        thumbnail_bytes: stored?.thumbnailBytes ?? outcome.thumbnails.get(horse.id)?.jpeg.byteLength ?? 0,
      };
    }).concat(
      outcome.tracking.provisional.map((track) => ({
        id: null,
        tracking_id: null,
        status: 'provisional' as const,
        track_id: track.trackKey,
        detections: track.detections,
        confidence: round(track.meanConfidence, 4),
        thumbnail_bytes: 0,
      })),
    ),
    identified: outcome.tracking.identified.map((entry) => ({ track_id: entry.trackKey, id: renamed.get(entry.horseId) ?? entry.horseId, status: entry.status })),
    timings_ms: timings,
    overhead_ratio: round(overheadRatio(outcome.timings, outcome.registryMatchMs), 5),
  };
}

/** Persisting stage: the chunk's horses and its chunk-log row in one transaction. */
export async function persistChunk(store: RegistryStore, registry: RegistrySnapshot, outcome: ChunkOutcome): Promise<PersistedChunk> {
  const { event } = outcome;
  const started = performance.now();
  const saved = await store.saveChunk(
    {
      streamId: event.streamId,
      chunkId: event.chunkId,
      sequence: event.sequence,
      startTime: event.startTime,
      durationS: event.durationS,
      timings: Object.fromEntries(Object.entries(outcome.timings).map(([stage, ms]) => [stage, round(ms)])),
      trackerState: outcome.tracking.state,
    },
    horseUpdatesOf(outcome, registry),
  );
  outcome.timings.persist = performance.now() - started;
  outcome.timings.total = outcome.timings.load_registry + (performance.now() - outcome.startedAt);
  if (saved.duplicate) {
    return { outcome, registry: { ...registry, registryVersion: -1 }, result: chunkResultJson(event, outcome, null), duplicate: true };
  }
  return {
    outcome,
    registry: registryAfterSave(registry, saved, outcome),
    result: chunkResultJson(event, outcome, saved),
    duplicate: false,
  };
}
