import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError, errorMessage } from '../../errors/index.ts';
import { connectNats, MAX_CHUNK_DURATION_S, publishChunkEvent } from '../../sources/index.ts';
import { decodeOptionsFromConfig, probeVideo } from '../../video/index.ts';
import type { PaddockConfig } from '../../config/index.ts';
import { commandContext } from '../context.ts';
import { parseStreamIdOption } from '../stream-option.ts';

interface PublishOptions {
  stream: string;
  sequence: string;
  chunkId?: string;
  startTime?: string;
  duration?: string;
}

function parseSequence(raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value)) throw new UsageError(`--sequence must be a non-negative integer, got "${raw}"`);
  return value;
}

function parseDuration(raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value) || value <= 0 || value > MAX_CHUNK_DURATION_S) {
    throw new UsageError(`--duration must be seconds in (0, ${MAX_CHUNK_DURATION_S}], got "${raw}"`);
  }
  return value;
}

function parseStartTime(raw: string): Date {
  const value = new Date(raw);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(raw) || Number.isNaN(value.getTime())) throw new UsageError(`--start-time must be an ISO-8601 date-time, got "${raw}"`);
  return value;
}

async function probedDuration(file: string, chunkId: string, config: PaddockConfig): Promise<number> {
  try {
    const probe = await probeVideo(file, chunkId, decodeOptionsFromConfig(config));
    if (probe.durationS !== undefined && probe.durationS > 0) return Math.min(probe.durationS, MAX_CHUNK_DURATION_S);
  } catch (error) {
    throw new UsageError(`cannot read the duration of ${file} (${errorMessage(error)}); pass --duration`);
  }
  throw new UsageError(`${file} states no duration; pass --duration`);
}

export function registerPublishCommand(program: Command): void {
  program
    .command('publish')
    .description('publish one chunk event for FILE to horses.chunks.<stream> through JetStream')
    .argument('<file>', 'the chunk video (its absolute path becomes the event uri)')
    .requiredOption('--stream <id>', 'stream id (1-128 of A-Z a-z 0-9 _ -)', parseStreamIdOption)
    .requiredOption('--sequence <n>', "the chunk's position in its stream")
    .option('--chunk-id <id>', 'chunk id (default <stream>-<sequence padded to 6>)')
    .option('--start-time <iso>', "ISO-8601 time of the chunk's first frame (default: now minus the duration)")
    .option('--duration <s>', 'chunk duration in seconds (default: probed from the file)')
    .action(async (file: string, options: PublishOptions) => {
      const sequence = parseSequence(options.sequence);
      const chunkId = options.chunkId ?? `${options.stream}-${String(sequence).padStart(6, '0')}`;
      const uri = path.resolve(file);
      const info = await stat(uri).catch(() => undefined);
      if (info === undefined || !info.isFile()) throw new UsageError(`${file} is not a file`);
      const startTime = options.startTime === undefined ? undefined : parseStartTime(options.startTime);
      const { config, logger } = commandContext();
      const durationS = options.duration === undefined ? await probedDuration(uri, chunkId, config) : parseDuration(options.duration);
      const event = {
        streamId: options.stream,
        chunkId,
        sequence,
        uri,
        startTime: startTime ?? new Date(Date.now() - durationS * 1000),
        durationS,
      };
      const link = await connectNats(config.nats, { logger, name: 'paddock-publish' });
      try {
        const { subject, ack } = await publishChunkEvent(link.nc, event, {
          logger,
          streamName: config.natsTopology.stream,
          subjectPrefix: `${config.natsTopology.subjectPrefix}.chunks`,
        });
        const duplicate = ack.duplicate ? ' (duplicate: already in the stream)' : '';
        process.stdout.write(`published ${chunkId} on ${subject}: stream ${ack.stream} seq ${ack.seq}${duplicate}\n`);
      } finally {
        await link.close();
      }
    });
}
