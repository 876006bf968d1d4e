import type { Box, FeatureBank, KnownHorse, TrackerState } from '../tracking/index.ts';

/** Where a registry load was served from (the `source` label of paddock_registry_load_seconds). */
export type RegistrySource = 'redis' | 'memory' | 'postgres' | 'embedded';

/** A registered horse as stored: what the tracker needs plus bookkeeping for writes. */
export interface StoredHorse extends KnownHorse {
  version: number;
  thumbnailBytes: number;
  thumbnailQuality: number | null;
}

export interface HerdSettings {
  expectedCount: number;
  officialIds: string[];
}

/** What a stream actor needs to start tracking. */
export interface RegistrySnapshot {
  streamId: string;
  /** Live horses (never merged-away ones), most recently seen first. */
  horses: StoredHorse[];
  /** max(tracking_id) + 1 over every horse the stream ever had, merged or pruned included. */
  nextTrackingId: number;
  registryVersion: number;
  herd: HerdSettings | null;
  /** The tracker's live state after the stream's last chunk; null when there is none (or it could not be read). */
  trackerState: TrackerState | null;
  source: RegistrySource;
}

/** One horse's contribution from one chunk. */
export interface HorseChunkUpdate {
  id: string;
  trackingId: number;
  color: string;
  /** True when the tracker created the horse in this chunk. */
  isNew: boolean;
  /** The version the update was computed from; 0 for a new horse. */
  baseVersion: number;
  detections: number;
  /** Mean detection confidence over this chunk's detections. */
  confidence: number;
  firstSeen: Date;
  lastSeen: Date;
  /** The bank after this chunk. An update never rewrites the first-appearance vector. */
  features: FeatureBank;
  /**
   * False when the exemplars are the stored ones (most chunks): they are then not sent again.
   * Unset means changed.
   */
  exemplarsChanged?: boolean;
  lastBox: Box | null;
  thumbnail: Buffer | null;
  thumbnailQuality: number | null;
  /** A small JPEG of this chunk's best view, for the horse's timeline (unset: none). */
  sightingThumbnail?: Buffer | null;
}

export interface ChunkRecord {
  streamId: string;
  chunkId: string;
  sequence: number;
  startTime: Date | null;
  durationS: number | null;
  timings: Record<string, number>;
  /** The tracker's state after this chunk, saved in the same transaction (unset: none). */
  trackerState?: TrackerState | null;
}

export interface SaveChunkResult {
  /** The chunk was already in stream_chunks: nothing changed. */
  duplicate: boolean;
  /** Optimistic-locking conflicts resolved by reload + merge before the write went through. */
  conflicts: number;
  /** New horses renumbered because another writer took their ID first: old ID → new ID. */
  renumbered: Map<string, string>;
  registryVersion: number;
  /** The saved state of every horse the chunk touched. */
  horses: StoredHorse[];
  /** The tracker state as stored (encoded), or null when none was (none given, a renumbered horse, a duplicate). */
  trackerState: Buffer | null;
}

/** `horses list` row (the contract's JSON shape is produced from it by the CLI). */
export interface HorseSummary {
  id: string;
  trackingId: number;
  name: string | null;
  color: string;
  firstDetected: Date;
  lastSeen: Date;
  totalDetections: number;
  confidenceScore: number;
  thumbnailBytes: number;
}

export interface PruneResult {
  thumbnailsDropped: number;
  cacheEntriesDropped: number;
  horsesInactive: number;
  /** Timeline rows older than the sighting retention, deleted. */
  sightingsDropped: number;
}

export interface MergeResult {
  keep: StoredHorse;
  dropId: string;
  registryVersion: number;
}

export interface RegistryStore {
  readonly kind: 'postgres' | 'embedded';
  load(streamId: string): Promise<RegistrySnapshot>;
  saveChunk(chunk: ChunkRecord, updates: HorseChunkUpdate[]): Promise<SaveChunkResult>;
  isChunkProcessed(streamId: string, chunkId: string): Promise<boolean>;
  /** Tracking of the chunk starts: counted as interrupted until attemptEnded. */
  attemptStarted(streamId: string, chunkId: string): Promise<void>;
  /** Tracking of the chunk ended in order (done, failed or given back). */
  attemptEnded(streamId: string, chunkId: string): Promise<void>;
  /** Attempts at the chunk cut short by the process dying. */
  interruptedAttempts(streamId: string, chunkId: string): Promise<number>;
  lastSequence(streamId: string): Promise<number | null>;
  registryVersion(streamId: string): Promise<number>;
  listHorses(streamId: string): Promise<HorseSummary[]>;
  rename(streamId: string, horseId: string, name: string): Promise<void>;
  merge(streamId: string, keepId: string, dropId: string): Promise<MergeResult>;
  thumbnail(streamId: string, horseId: string): Promise<Buffer | null>;
  /** Thumbnails and cache entries of horses unseen for inactiveDays; sightings older than sightingDays (when given). */
  prune(inactiveDays: number, now?: Date, sightingDays?: number): Promise<PruneResult>;
  setHerd(streamId: string, herd: HerdSettings | null): Promise<void>;
  close(): Promise<void>;
}
