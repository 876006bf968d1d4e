import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { startSupervisor } from '../../machines/index.ts';
import type { ChunkEvent, StreamEmitted } from '../../machines/types.ts';
import type { PaddockConfig } from '../config/index.ts';
import { PaddockError, UsageError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { createFileListSource, type FileDeliveryOutcome } from '../sources/file-list-source.ts';
import { decodeOptionsFromConfig, probeVideo, type VideoProbe } from '../video/index.ts';
import type { Pipeline } from './runtime.ts';

export interface FileChunkPlan {
  events: ChunkEvent[];
  probes: VideoProbe[];
  /** Seconds from the first chunk's start to each chunk's start (MOT frame numbering). */
  offsetsS: number[];
}

/**
 * How long a stream waits for a missing sequence before going on without it. After a crash the
 * unacked chunks come back only after the ack wait, while later chunks arrive at once: the wait
 * must outlast the ack wait (with a margin) or the later chunks would be processed first.
 */
export function gapTimeoutFor(ackWaitMs: number): number {
  return Math.max(30_000, ackWaitMs + Math.max(5_000, Math.floor(ackWaitMs / 2)));
}

/** Supervisor settings from the configuration, shared by the daemon and one-shot commands. */
export function supervisorOptionsFrom(config: PaddockConfig) {
  return {
    maxInflight: config.maxInflight,
    idleTimeoutMs: config.idleTimeoutMs,
    // In-flight chunks get the deadline less what closing the connections may take, so the
    // daemon's absolute deadline (cli/commands/run.ts) is rarely the one that ends it.
    shutdownDeadlineMs: Math.max(1000, config.shutdownDeadlineMs - Math.min(5000, Math.floor(config.shutdownDeadlineMs / 3))),
    // In-progress acks well inside JetStream's ack wait, so a long chunk is never redelivered.
    workingIntervalMs: Math.min(10_000, Math.floor(config.natsTopology.ackWaitMs / 3)),
    stream: { maxDeliveries: config.maxDeliveries, gapTimeoutMs: gapTimeoutFor(config.natsTopology.ackWaitMs) },
  };
}

/**
 * Consecutive chunks of one stream from files, in the order given: sequences continue after
 * the stream's last processed chunk, start times follow each other by the files' durations and
 * end now. A chunk's ID comes from its file's real path, so processing a file again is a
 * recognised duplicate.
 */
export async function planFileChunks(
  config: PaddockConfig,
  streamId: string,
  files: string[],
  lastSequence: number | null,
  endTime = new Date(),
): Promise<FileChunkPlan> {
  if (files.length === 0) throw new UsageError('no chunk files given');
  const probeOptions = decodeOptionsFromConfig(config);
  const probes: VideoProbe[] = [];
  const resolved: string[] = [];
  for (const file of files) {
    const absolute = path.resolve(file);
    const chunkId = path.basename(absolute);
    probes.push(await probeVideo(absolute, chunkId, probeOptions));
    resolved.push(await realpath(absolute));
  }
  const durations = probes.map((probe, i) => {
    if (probe.durationS === undefined || !(probe.durationS > 0)) {
      throw new PaddockError('VIDEO_INVALID', `cannot tell the duration of chunk ${files[i]}`);
    }
    return probe.durationS;
  });
  const total = durations.reduce((sum, duration) => sum + duration, 0);
  const start = endTime.getTime() - total * 1000;
  const offsetsS: number[] = [];
  let offset = 0;
  const events = resolved.map((file, i): ChunkEvent => {
    offsetsS.push(offset);
    const event: ChunkEvent = {
      streamId,
      chunkId: `${path.basename(file, path.extname(file))}-${createHash('sha1').update(file).digest('hex').slice(0, 8)}`,
      sequence: (lastSequence ?? 0) + 1 + i,
      uri: file,
      startTime: new Date(start + offset * 1000),
      durationS: durations[i]!,
    };
    offset += durations[i]!;
    return event;
  });
  return { events, probes, offsetsS };
}

/**
 * Runs chunk events through the supervisor and the stream machine, exactly as the daemon does,
 * until every one is acked (persisted or a known duplicate) or dead-lettered.
 */
export async function runChunkEvents(options: {
  config: PaddockConfig;
  logger: Logger;
  pipeline: Pipeline;
  events: ChunkEvent[];
  onStreamEvent?: (event: StreamEmitted) => void;
}): Promise<FileDeliveryOutcome[]> {
  const { logger } = options;
  const source = createFileListSource(options.events, options.config.maxDeliveries);
  let fail: (error: unknown) => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    fail = reject;
  });
  const supervisor = startSupervisor({
    effects: options.pipeline.effects,
    port: source.port,
    options: supervisorOptionsFrom(options.config),
    onError: (error) => {
      logger.error({ err: (error as Error).message }, 'supervisor failed');
      fail(error);
    },
    onStreamEvent: (event) => {
      if (event.type === 'chunk.failed') {
        logger.warn(
          { stream_id: event.streamId, chunk_id: event.delivery?.event.chunkId, stage: event.stage, attempt: event.attempt, retry_in_ms: event.retryInMs, err: (event.error as Error)?.message },
          'chunk failed',
        );
      }
      options.onStreamEvent?.(event);
    },
  });
  source.setRedeliver(supervisor.send);
  for (const delivery of source.deliveries) supervisor.send(delivery);
  try {
    return await Promise.race([source.settled, failed]);
  } finally {
    await supervisor.stop().catch(() => {});
  }
}
