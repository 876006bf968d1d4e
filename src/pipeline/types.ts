import type { ChunkEvent } from '../../machines/types.ts';
import type { ChunkTimings } from '../metrics/index.ts';
import type { RegistrySnapshot } from '../registry/index.ts';
import type { ChunkTrackingResult, HorseStatus } from '../tracking/index.ts';

export type { ChunkTimings } from '../metrics/index.ts';

/** An encoded avatar for one horse, only when it beats the stored one. */
export interface EncodedThumbnail {
  jpeg: Buffer;
  quality: number;
}

/** How much inference a chunk ran, and what ReID on demand saved. */
export interface InferenceWork {
  /** Frames the detector ran on … */
  framesDetected: number;
  /** … and frames it skipped because nothing moved (motion gating): the horses kept their boxes. */
  framesHeld: number;
  /** Detections embedded by the ReID model … */
  embeddingsComputed: number;
  /** … and detections the tracker needed no vector for. */
  embeddingsSkipped: number;
}

/** What tracking a chunk produced, before it is persisted. */
export interface ChunkOutcome {
  event: ChunkEvent;
  tracking: ChunkTrackingResult;
  thumbnails: Map<string, EncodedThumbnail>;
  /** A small JPEG of each horse's best view in this chunk, for its timeline. */
  sightingThumbnails: Map<string, Buffer>;
  /** Stage times so far (persist and total are filled in when the chunk is saved). */
  timings: ChunkTimings;
  registryMatchMs: number;
  framesDecoded: number;
  inference: InferenceWork;
  frameWidth: number;
  frameHeight: number;
  /** Set when the video broke off mid-chunk: the frames decoded before the break were used. */
  partial: string | null;
  startedAt: number;
}

/** The contract's chunk result (`process --json`, one line per chunk). */
export interface ChunkResultJson {
  stream_id: string;
  chunk_id: string;
  /** Decided horses first (in the tracker's order), then provisional tracks (id and tracking_id null, track_id set). */
  horses: Array<{
    id: string | null;
    tracking_id: number | null;
    status: HorseStatus | 'provisional';
    /** The tracker's track number of a provisional entry (joined to its horse by a later chunk's `identified`). */
    track_id?: number;
    detections: number;
    confidence: number;
    thumbnail_bytes: number;
  }>;
  /** Provisional tracks of earlier chunks decided in this chunk. */
  identified: Array<{ track_id: number; id: string; status: HorseStatus }>;
  timings_ms: ChunkTimings;
  overhead_ratio: number;
}

/** A persisted chunk: its outcome, the registry after it, and the contract's result. */
export interface PersistedChunk {
  outcome: ChunkOutcome;
  registry: RegistrySnapshot;
  result: ChunkResultJson;
  /** The chunk was already in the chunk log (another process saved it first). */
  duplicate: boolean;
}
