import type { StreamEmitted, SupervisorEmitted } from '../../machines/types.ts';
import { isPaddockError, type ErrorCode } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { PaddockMetrics } from '../metrics/index.ts';
import type { EventPublisher } from '../sources/index.ts';
import type { PersistedChunk } from '../pipeline/index.ts';

/**
 * The daemon's observers: machine events (a persisted chunk among them) become log lines, metrics and
 * NATS output events in one place, so the machines and the pipeline stay free of them.
 */
export function createObservers(logger: Logger, metrics: PaddockMetrics, eventPublisher: () => EventPublisher | null) {
  const queued = new Map<string, number>();
  const adjustQueue = (streamId: string, delta: number) => {
    const depth = Math.max(0, (queued.get(streamId) ?? 0) + delta);
    queued.set(streamId, depth);
    metrics.setQueueDepth(streamId, depth);
  };

  /** A chunk acked after it was persisted: metrics, its log line and its output events. */
  const processed = (persisted: PersistedChunk): void => {
    const { outcome, result, registry } = persisted;
    const { event } = outcome;
    metrics.observeChunk(result.timings_ms, outcome.registryMatchMs);
    for (const horse of result.horses) if (horse.status !== 'provisional') metrics.countReidDecision(event.streamId, horse.status);
    metrics.countInferenceItems('detector', 'ran', outcome.inference.framesDetected);
    metrics.countInferenceItems('detector', 'skipped', outcome.inference.framesHeld);
    metrics.countInferenceItems('reid', 'ran', outcome.inference.embeddingsComputed);
    metrics.countInferenceItems('reid', 'skipped', outcome.inference.embeddingsSkipped);
    metrics.recordLag(event.streamId, new Date(event.startTime.getTime() + event.durationS * 1000));
    metrics.setRegistrySize(event.streamId, { known: registry.horses.length, active: result.horses.length });
    logger.info(
      {
        stream_id: event.streamId,
        chunk_id: event.chunkId,
        sequence: event.sequence,
        horses: result.horses.map((horse) => `${horse.id}:${horse.status}`),
        timings_ms: result.timings_ms,
        overhead_ratio: result.overhead_ratio,
        duplicate: persisted.duplicate,
        partial: outcome.partial,
      },
      'chunk persisted',
    );
    const events = eventPublisher();
    if (events === null || persisted.duplicate) return;
    events.chunkProcessed({
      streamId: event.streamId,
      chunkId: event.chunkId,
      sequence: event.sequence,
      horses: result.horses.flatMap((horse) => (horse.id === null || horse.tracking_id === null || horse.status === 'provisional' ? [] : [{ id: horse.id, trackingId: horse.tracking_id, status: horse.status }])),
      provisional: result.horses.flatMap((horse) => (horse.status === 'provisional' && horse.track_id !== undefined ? [{ trackId: horse.track_id, detections: horse.detections }] : [])),
      timingsMs: result.timings_ms,
      overheadRatio: result.overhead_ratio,
      processedAt: new Date(),
    });
    outcome.tracking.horses.forEach((horse, index) => {
      const saved = result.horses[index];
      const identity = { id: saved?.id ?? horse.id, trackingId: saved?.tracking_id ?? horse.trackingId, color: horse.color, name: horse.name };
      if (horse.status === 'new') events.horseCreated(event.streamId, event.chunkId, identity);
      else if (horse.status === 'reactivated') events.horseReactivated(event.streamId, event.chunkId, identity);
    });
    for (const entry of result.identified) events.horseIdentified(event.streamId, event.chunkId, entry.track_id, entry.id, entry.status);
  };

  return {
    received(streamId: string): void {
      adjustQueue(streamId, 1);
    },

    stream(emitted: StreamEmitted): void {
      switch (emitted.type) {
        case 'chunk.processed':
          adjustQueue(emitted.streamId, -1);
          metrics.countChunk(emitted.streamId, 'processed');
          processed(emitted.persisted as PersistedChunk);
          break;
        case 'chunk.skipped':
          adjustQueue(emitted.streamId, -1);
          metrics.countChunk(emitted.streamId, 'duplicate');
          logger.info({ stream_id: emitted.streamId, chunk_id: emitted.delivery.event.chunkId }, 'chunk already processed; acked and skipped');
          break;
        case 'chunk.failed': {
          const code = metrics.countError(emitted.error);
          metrics.countChunk(emitted.streamId, emitted.retryInMs === null ? 'failed' : 'retried');
          logger.warn(
            {
              stream_id: emitted.streamId,
              chunk_id: emitted.delivery?.event.chunkId,
              stage: emitted.stage,
              attempt: emitted.attempt,
              retry_in_ms: emitted.retryInMs,
              code,
              err: emitted.error instanceof Error ? emitted.error.message : String(emitted.error),
            },
            'chunk failed',
          );
          break;
        }
        case 'chunk.deadLettered':
          adjustQueue(emitted.streamId, -1);
          metrics.countChunk(emitted.streamId, 'dead_lettered');
          logger.error({ stream_id: emitted.streamId, chunk_id: emitted.delivery.event.chunkId, reason: emitted.reason }, 'chunk dead-lettered');
          break;
        case 'chunk.gap':
          logger.warn(
            { stream_id: emitted.streamId, expected_sequence: emitted.expectedSequence, resumed_at: emitted.resumedAt, reason: emitted.reason },
            'gap in chunk sequence; going on without the missing chunk',
          );
          break;
        case 'registry.loaded':
          logger.info({ stream_id: emitted.streamId, reason: emitted.reason, last_sequence: emitted.lastSequence }, 'registry loaded');
          break;
        case 'registry.unavailable':
          metrics.countError(emitted.error);
          logger.error(
            { stream_id: emitted.streamId, stage: emitted.stage, nakked: emitted.nakked, err: emitted.error instanceof Error ? emitted.error.message : String(emitted.error) },
            'registry unavailable; chunks given back for redelivery',
          );
          break;
      }
    },

    supervisor(emitted: SupervisorEmitted): void {
      switch (emitted.type) {
        case 'stream.spawned':
          logger.info({ stream_id: emitted.streamId }, 'stream actor started');
          break;
        case 'stream.stopped':
          logger.info({ stream_id: emitted.streamId, reason: emitted.reason }, 'stream actor stopped');
          if (emitted.reason === 'idle') metrics.forgetStream(emitted.streamId);
          break;
        case 'stream.crashed':
          metrics.countError(emitted.error);
          logger.error({ stream_id: emitted.streamId, restart_in_ms: emitted.restartInMs, err: (emitted.error as Error)?.message }, 'stream actor crashed');
          break;
        case 'stream.restarted':
          logger.warn({ stream_id: emitted.streamId, redelivered: emitted.redelivered }, 'stream actor restarted');
          break;
        case 'stream.failed':
          logger.error({ stream_id: emitted.streamId, until: new Date(emitted.until).toISOString(), nakked: emitted.nakked }, 'stream failed too often; its chunks are given back for later');
          break;
        case 'stream.released':
          queued.delete(emitted.streamId);
          metrics.forgetStream(emitted.streamId);
          logger.info({ stream_id: emitted.streamId, nakked: emitted.nakked }, 'stream given up to another replica');
          break;
        case 'delivery.rejected':
          adjustQueue(emitted.delivery.event.streamId, -1);
          break;
      }
    },

    /** Dead letters by error code when the reason starts with one, else INTERNAL. */
    deadLetterCode(reason: string): ErrorCode {
      const match = /\b([A-Z]+_[A-Z_]+)\b/.exec(reason);
      return (match?.[1] as ErrorCode | undefined) ?? 'INTERNAL';
    },

    error(error: unknown, message: string): void {
      const code = metrics.countError(error);
      logger.error({ code, err: error instanceof Error ? error.message : String(error), permanent: isPaddockError(error) ? error.permanent : undefined }, message);
    },
  };
}

export type Observers = ReturnType<typeof createObservers>;
