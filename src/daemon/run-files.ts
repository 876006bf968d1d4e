/**
 * Chunk files as one stream through the daemon's own path (supervisor, stream machine, the
 * pipeline's effects): `process`, `demo`, the quality tests and the benchmarks all run files here.
 */
import { createHash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import { startSupervisor } from '../../machines/index.ts';
import type { ChunkEvent, StreamEmitted } from '../../machines/types.ts';
import type { PaddockConfig } from '../config/index.ts';
import { PaddockError, UsageError } from '../errors/index.ts';
import type { MotRow } from '../eval/index.ts';
import type { Logger } from '../log/index.ts';
import { motRowsOf, openPipeline, type PersistedChunk, type Pipeline } from '../pipeline/index.ts';
import type { MigrationPolicy } from '../registry/index.ts';
import { createFileListSource, type FileDeliveryOutcome } from '../sources/index.ts';
import { decodeOptionsFromConfig, probeVideo, type VideoProbe } from '../video/index.ts';
import { supervisorOptionsFrom } from './supervisor-options.ts';

export interface FileChunkPlan {
  events: ChunkEvent[];
  probes: VideoProbe[];
  /** Seconds from the first chunk's start to each chunk's start (MOT frame numbering). */
  offsetsS: number[];
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

export interface FileStreamRun {
  plan: FileChunkPlan;
  /** Persisted chunks (duplicates included), in the order they were acked. */
  chunks: PersistedChunk[];
  /** Tracked boxes of every persisted chunk as MOT rows in the stream's frame numbering (provisional tracks not joined). */
  rows: MotRow[];
  /** One per chunk run, in order: "file: reason" for each dead-lettered chunk. */
  failed: string[];
}

/**
 * Opens a fresh pipeline (one daemon lifetime), runs chunk files through it as consecutive chunks
 * of `streamId`, collects what every acked chunk persisted and its MOT rows, and closes it again.
 * The chunks are either files (planned after the stream's last persisted chunk, ending at
 * `endTime`) or chosen events of a plan made earlier (a stream split over several lifetimes).
 */
export async function runFileStream(options: {
  config: PaddockConfig;
  logger: Logger;
  migrations: MigrationPolicy;
  streamId: string;
  chunks: { files: string[]; endTime?: Date } | { plan: FileChunkPlan; indexes: number[] };
  /** Seconds from the stream's first frame to the start of the plan's chunk `index` (default: the plan's offsets). */
  chunkOffsetS?: (index: number) => number;
  /** Frame rate of the MOT frame numbering (default: each chunk's own, else the sampling rate). */
  motFps?: number;
  /** Each chunk as it is acked, with its index in the plan. */
  onChunk?: (persisted: PersistedChunk, index: number) => void;
  /** Runs on the open pipeline after the chunks (e.g. reads the registry). */
  after?: (pipeline: Pipeline) => Promise<void>;
}): Promise<FileStreamRun> {
  const { config, logger, streamId } = options;
  const pipeline = await openPipeline({ config, logger, migrations: options.migrations });
  const planAll = async ({ files, endTime }: { files: string[]; endTime?: Date }) => {
    const plan = await planFileChunks(config, streamId, files, await pipeline.store.lastSequence(streamId), endTime);
    return { plan, indexes: plan.events.map((_, i) => i) };
  };
  try {
    const { plan, indexes } = 'plan' in options.chunks ? options.chunks : await planAll(options.chunks);
    const indexOf = new Map(plan.events.map((event, i) => [event.chunkId, i]));
    const chunks: PersistedChunk[] = [];
    const rows: MotRow[] = [];
    const outcomes = await runChunkEvents({
      config,
      logger,
      pipeline,
      events: indexes.map((i) => plan.events[i]!),
      onStreamEvent: (event) => {
        if (event.type !== 'chunk.processed') return;
        const persisted = event.persisted as PersistedChunk;
        const index = indexOf.get(persisted.outcome.event.chunkId)!;
        const probe = plan.probes[index]!;
        chunks.push(persisted);
        const offsetS = options.chunkOffsetS?.(index) ?? plan.offsetsS[index]!;
        rows.push(...motRowsOf(persisted, offsetS, { fps: options.motFps ?? probe.fps ?? config.sampleFps, width: probe.width, height: probe.height }));
        options.onChunk?.(persisted, index);
      },
    });
    const failed = outcomes.flatMap((outcome, k) => (outcome.status === 'dead-lettered' ? [`${plan.events[indexes[k]!]!.uri}: ${outcome.reason}`] : []));
    await options.after?.(pipeline);
    return { plan, chunks, rows, failed };
  } finally {
    await pipeline.close();
  }
}
