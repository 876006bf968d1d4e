/**
 * The JetStream objects paddock relies on: the chunk stream, the dead-letter stream and the
 * durable pull consumer. Created when missing; existing streams are left alone, an existing
 * consumer is updated when its delivery settings differ (where the server allows it).
 */
import { AckPolicy, DeliverPolicy, JetStreamApiCodes, JetStreamApiError, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { ConsumerConfig, ConsumerInfo, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { PaddockError, errorMessage } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';

export const DEFAULT_CHUNK_STREAM = 'HORSE_CHUNKS';
export const DEFAULT_CHUNK_SUBJECT_PREFIX = 'horses.chunks';
export const DEFAULT_CONSUMER = 'paddock';
export const DEFAULT_DLQ_STREAM = 'HORSE_DLQ';
export const DEFAULT_DLQ_SUBJECT_PREFIX = 'horses.dlq';
export const DEFAULT_EVENTS_SUBJECT_PREFIX = 'horses.events';
export const DEFAULT_ACK_WAIT_MS = 15_000;
export const DEFAULT_MAX_ACK_PENDING = 1000;

export interface ConsumerSettings {
  ackWaitMs: number;
  /** The consumer's max_deliver. */
  maxDeliveries: number;
  maxAckPending: number;
}

function isNotFound(error: unknown, code: number): boolean {
  return error instanceof JetStreamApiError && error.code === code;
}

function natsError(what: string, error: unknown): PaddockError {
  return new PaddockError('NATS', `${what}: ${errorMessage(error)}`, { cause: error });
}

/** A file-backed, limits-retention stream on `<subjectPrefix>.>`; an existing one is left as it is. */
export async function ensureStream(
  jsm: JetStreamManager,
  name: string,
  subjectPrefix: string,
  logger: Logger,
  options: { duplicateWindowMs?: number } = {},
): Promise<StreamInfo> {
  try {
    return await jsm.streams.info(name);
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.StreamNotFound)) throw natsError(`cannot read JetStream stream ${name}`, error);
  }
  try {
    const info = await jsm.streams.add({
      name,
      subjects: [`${subjectPrefix}.>`],
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
      ...(options.duplicateWindowMs === undefined ? {} : { duplicate_window: nanos(options.duplicateWindowMs) }),
    });
    logger.info({ stream: name, subjects: info.config.subjects }, 'created JetStream stream');
    return info;
  } catch (error) {
    throw natsError(`cannot create JetStream stream ${name} on ${subjectPrefix}.>`, error);
  }
}

function wantedConsumerConfig(name: string, settings: ConsumerSettings): Partial<ConsumerConfig> {
  return {
    durable_name: name,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(settings.ackWaitMs),
    max_deliver: settings.maxDeliveries,
    max_ack_pending: settings.maxAckPending,
  };
}

/** The durable pull consumer: created when missing, its delivery settings brought in line when they differ. */
export async function ensureConsumer(jsm: JetStreamManager, stream: string, name: string, settings: ConsumerSettings, logger: Logger): Promise<ConsumerInfo> {
  const wanted = wantedConsumerConfig(name, settings);
  let existing: ConsumerInfo | undefined;
  try {
    existing = await jsm.consumers.info(stream, name);
  } catch (error) {
    if (!isNotFound(error, JetStreamApiCodes.ConsumerNotFound)) throw natsError(`cannot read consumer ${name} of ${stream}`, error);
  }
  if (existing === undefined) {
    try {
      const info = await jsm.consumers.add(stream, wanted);
      logger.info({ stream, consumer: name, ack_wait_ms: settings.ackWaitMs, max_deliveries: settings.maxDeliveries, max_ack_pending: settings.maxAckPending }, 'created JetStream consumer');
      return info;
    } catch (error) {
      throw natsError(`cannot create consumer ${name} on ${stream}`, error);
    }
  }
  const current = existing.config;
  const differs = current.ack_wait !== wanted.ack_wait || current.max_deliver !== wanted.max_deliver || current.max_ack_pending !== wanted.max_ack_pending;
  if (!differs) return existing;
  try {
    const updated = await jsm.consumers.update(stream, name, { ack_wait: wanted.ack_wait, max_deliver: wanted.max_deliver, max_ack_pending: wanted.max_ack_pending });
    logger.info({ stream, consumer: name, ack_wait_ms: settings.ackWaitMs, max_deliveries: settings.maxDeliveries, max_ack_pending: settings.maxAckPending }, 'updated JetStream consumer settings');
    return updated;
  } catch (error) {
    logger.warn({ stream, consumer: name, err: errorMessage(error) }, 'existing consumer settings differ and could not be updated; using them as they are');
    return existing;
  }
}
