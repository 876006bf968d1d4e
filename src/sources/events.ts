/**
 * Output events on `horses.events.<stream_id>` (core NATS, JSON; schemas in README.md).
 * Publishing never throws into the pipeline: a failure is logged and counted by the caller's hook.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { errorMessage } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { HorseStatus } from '../tracking/index.ts';
import { DEFAULT_EVENTS_SUBJECT_PREFIX } from './topology.ts';

export interface ChunkProcessedInput {
  streamId: string;
  chunkId: string;
  sequence: number;
  horses: ReadonlyArray<{ id: string; trackingId: number; status: HorseStatus }>;
  /** Confirmed tracks not decided yet (new or known): reported by track number. */
  provisional?: ReadonlyArray<{ trackId: number; detections: number }>;
  timingsMs: Readonly<Record<string, number>>;
  overheadRatio: number;
  processedAt: Date;
}

export interface HorseIdentity {
  id: string;
  trackingId: number;
  color: string | null;
  name: string | null;
}

export type PaddockEvent =
  | {
      type: 'chunk.processed';
      stream_id: string;
      chunk_id: string;
      sequence: number;
      horses: Array<{ id: string; tracking_id: number; status: HorseStatus }>;
      provisional: Array<{ track_id: number; detections: number }>;
      timings_ms: Record<string, number>;
      overhead_ratio: number;
      processed_at: string;
    }
  | {
      type: 'horse.created' | 'horse.reactivated';
      stream_id: string;
      chunk_id: string;
      horse: { id: string; tracking_id: number; color: string | null; name: string | null };
    }
  | { type: 'horse.identified'; stream_id: string; chunk_id: string; track_id: number; horse_id: string; status: HorseStatus }
  | { type: 'horse.merged'; stream_id: string; keep: string; drop: string }
  // Operator changes (the API and the web app):
  | { type: 'horse.renamed'; stream_id: string; horse_id: string; name: string | null }
  | { type: 'horse.updated'; stream_id: string; horse_id: string; official: boolean }
  | { type: 'horse.deleted'; stream_id: string; horse_id: string }
  | { type: 'horse.split'; stream_id: string; from: string; horse_id: string; sightings: number[] }
  | { type: 'herd.changed'; stream_id: string; expected_count: number | null; official_ids: string[] }
  | { type: 'change.undone'; stream_id: string; change_id: number; kind: 'merge' | 'split'; horses: string[] };

export interface EventPublisher {
  chunkProcessed(input: ChunkProcessedInput): void;
  horseCreated(streamId: string, chunkId: string, horse: HorseIdentity): void;
  horseReactivated(streamId: string, chunkId: string, horse: HorseIdentity): void;
  horseMerged(streamId: string, keep: string, drop: string): void;
  /** A provisional track of an earlier chunk turned out to be this horse. */
  horseIdentified(streamId: string, chunkId: string, trackId: number, horseId: string, status: HorseStatus): void;
  /** Publishes an already-built event. */
  publish(event: PaddockEvent): void;
}

export interface EventPublisherOptions {
  logger: Logger;
  subjectPrefix?: string;
  /** Called when a publish fails (e.g. for a counter). */
  onPublishError?(event: PaddockEvent['type'], error: unknown): void;
}

function horseJson(horse: HorseIdentity): { id: string; tracking_id: number; color: string | null; name: string | null } {
  return { id: horse.id, tracking_id: horse.trackingId, color: horse.color, name: horse.name };
}

export function chunkProcessedEvent(input: ChunkProcessedInput): PaddockEvent {
  return {
    type: 'chunk.processed',
    stream_id: input.streamId,
    chunk_id: input.chunkId,
    sequence: input.sequence,
    horses: input.horses.map((horse) => ({ id: horse.id, tracking_id: horse.trackingId, status: horse.status })),
    provisional: (input.provisional ?? []).map((track) => ({ track_id: track.trackId, detections: track.detections })),
    timings_ms: { ...input.timingsMs },
    overhead_ratio: input.overheadRatio,
    processed_at: input.processedAt.toISOString(),
  };
}

/** Output events on NATS, `<prefix>.<stream_id>`. */
export function createEventPublisher(nc: NatsConnection, options: EventPublisherOptions): EventPublisher {
  const prefix = options.subjectPrefix ?? DEFAULT_EVENTS_SUBJECT_PREFIX;
  return createEventPublisherTo((event) => nc.publish(`${prefix}.${event.stream_id}`, JSON.stringify(event)), options);
}

/** Output events handed to `deliver` (NATS, or an in-process hub when the daemon runs without NATS). */
export function createEventPublisherTo(deliver: (event: PaddockEvent) => void, options: Pick<EventPublisherOptions, 'logger' | 'onPublishError'>): EventPublisher {
  const logger = options.logger.child({ component: 'events' });
  const publish = (event: PaddockEvent): void => {
    try {
      deliver(event);
    } catch (error) {
      logger.warn({ type: event.type, stream_id: event.stream_id, err: errorMessage(error) }, 'output event not published');
      try {
        options.onPublishError?.(event.type, error);
      } catch (hookError) {
        logger.error({ err: errorMessage(hookError) }, 'onPublishError hook threw');
      }
    }
  };
  return {
    publish,
    chunkProcessed: (input) => publish(chunkProcessedEvent(input)),
    horseCreated: (streamId, chunkId, horse) => publish({ type: 'horse.created', stream_id: streamId, chunk_id: chunkId, horse: horseJson(horse) }),
    horseReactivated: (streamId, chunkId, horse) => publish({ type: 'horse.reactivated', stream_id: streamId, chunk_id: chunkId, horse: horseJson(horse) }),
    horseMerged: (streamId, keep, drop) => publish({ type: 'horse.merged', stream_id: streamId, keep, drop }),
    horseIdentified: (streamId, chunkId, trackId, horseId, status) =>
      publish({ type: 'horse.identified', stream_id: streamId, chunk_id: chunkId, track_id: trackId, horse_id: horseId, status }),
  };
}
