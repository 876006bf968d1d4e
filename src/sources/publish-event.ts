/** Publishing one chunk event into JetStream (what `paddock publish` and producers do). */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { PubAck } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { PaddockError, errorMessage } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { ChunkEvent } from '../../machines/types.ts';
import { chunkEventToPayload, parseChunkEvent } from './chunk-event.ts';
import { DEFAULT_CHUNK_STREAM, DEFAULT_CHUNK_SUBJECT_PREFIX, ensureStream } from './topology.ts';

export interface PublishChunkOptions {
  logger: Logger;
  streamName?: string;
  subjectPrefix?: string;
  timeoutMs?: number;
}

export interface PublishedChunk {
  subject: string;
  ack: PubAck;
}

/**
 * Validates the event, ensures the chunk stream exists and publishes the contract payload on
 * `<prefix>.<stream_id>`. The message id `<stream_id>:<chunk_id>` lets JetStream drop a repeat
 * inside its duplicate window. Throws EVENT_INVALID for a bad event, NATS when JetStream refuses.
 */
export async function publishChunkEvent(nc: NatsConnection, event: ChunkEvent, options: PublishChunkOptions): Promise<PublishedChunk> {
  const payload = chunkEventToPayload(event);
  parseChunkEvent(payload);
  const streamName = options.streamName ?? DEFAULT_CHUNK_STREAM;
  const subjectPrefix = options.subjectPrefix ?? DEFAULT_CHUNK_SUBJECT_PREFIX;
  const subject = `${subjectPrefix}.${event.streamId}`;
  await ensureStream(await jetstreamManager(nc), streamName, subjectPrefix, options.logger);
  try {
    const ack = await jetstream(nc).publish(subject, JSON.stringify(payload), {
      msgID: `${event.streamId}:${event.chunkId}`,
      expect: { streamName },
      timeout: options.timeoutMs ?? 5000,
    });
    return { subject, ack };
  } catch (error) {
    throw new PaddockError('NATS', `cannot publish to ${subject}: ${errorMessage(error)}`, { cause: error });
  }
}
