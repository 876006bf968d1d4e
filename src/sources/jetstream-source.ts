/**
 * Chunk deliveries from the JetStream durable pull consumer, and their settling.
 *
 *   horses.chunks.<stream_id> ─► HORSE_CHUNKS ─► consumer `paddock` ─► ChunkDelivery (handle = JsMsg)
 *   invalid message (subject, JSON, schema, stream mismatch) ─► horses.dlq.<token> (HORSE_DLQ) + term()
 *
 * Outstanding work is bounded twice: `maxMessages` buffered by the pull, `maxAckPending`
 * delivered and unsettled (the server stops delivering beyond it).
 */
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { ConsumerMessages, JetStreamClient, JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { errorMessage } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { ChunkDelivery } from '../../machines/types.ts';
import { isValidStreamId, parseChunkEvent } from './chunk-event.ts';
import { INVALID_STREAM_TOKEN, deadLetterRecord, deadLetterSubject, encodeDeadLetter } from './dead-letter.ts';
import {
  DEFAULT_ACK_WAIT_MS,
  DEFAULT_CHUNK_STREAM,
  DEFAULT_CHUNK_SUBJECT_PREFIX,
  DEFAULT_CONSUMER,
  DEFAULT_DLQ_STREAM,
  DEFAULT_DLQ_SUBJECT_PREFIX,
  DEFAULT_MAX_ACK_PENDING,
  ensureConsumer,
  ensureStream,
} from './topology.ts';
import { callHook } from './types.ts';
import type { ChunkSource, InvalidKind, SourceHooks } from './types.ts';

export const DEFAULT_MAX_MESSAGES = 16;
/**
 * Lifetime of one pull request. It also paces recovery: after a reconnect, nats.js re-pulls only
 * once the consumer answers, and retries that check every `expires` (@nats-io/jetstream
 * consumer.js resetPendingWithInfo); a server still recovering JetStream when the client
 * reconnects left chunks waiting up to 30 s more with the former 30 s. Idle cost: one pull every 10 s.
 */
export const DEFAULT_PULL_EXPIRES_MS = 10_000;
/** How long HORSE_DLQ remembers dead-letter IDs to drop a repeated one (set when it is created). */
const DLQ_DUPLICATE_WINDOW_MS = 60 * 60 * 1000;
/** JetStream's max_deliver for no limit. */
const UNLIMITED_DELIVERIES = -1;
/** NATS's default max_payload, when the server did not say. */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
/** Redelivery delay when a dead letter could not be published (the message must not be lost). */
const DLQ_FAILURE_NAK_MS = 10_000;

export interface JetStreamSourceOptions {
  logger: Logger;
  hooks?: SourceHooks;
  streamName?: string;
  subjectPrefix?: string;
  consumerName?: string;
  dlqStreamName?: string;
  dlqSubjectPrefix?: string;
  ackWaitMs?: number;
  /**
   * Unused by the consumer, kept for callers: redeliveries are unlimited server-side (max_deliver
   * −1), since restarts, shutdowns and outages must never use up a chunk's deliveries; the stream
   * machine dead-letters a chunk only for its own failures (see machines/stream.ts).
   */
  maxDeliveries?: number;
  maxAckPending?: number;
  /** Messages buffered by the pull consumer. */
  maxMessages?: number;
  expiresMs?: number;
}

type ResolvedOptions = Required<Omit<JetStreamSourceOptions, 'hooks'>> & { hooks: SourceHooks };

function resolveOptions(options: JetStreamSourceOptions): ResolvedOptions {
  return {
    logger: options.logger,
    hooks: options.hooks ?? {},
    streamName: options.streamName ?? DEFAULT_CHUNK_STREAM,
    subjectPrefix: options.subjectPrefix ?? DEFAULT_CHUNK_SUBJECT_PREFIX,
    consumerName: options.consumerName ?? DEFAULT_CONSUMER,
    dlqStreamName: options.dlqStreamName ?? DEFAULT_DLQ_STREAM,
    dlqSubjectPrefix: options.dlqSubjectPrefix ?? DEFAULT_DLQ_SUBJECT_PREFIX,
    ackWaitMs: Math.max(1000, options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    maxDeliveries: Math.max(1, Math.floor(options.maxDeliveries ?? 5)),
    maxAckPending: Math.max(1, Math.floor(options.maxAckPending ?? DEFAULT_MAX_ACK_PENDING)),
    maxMessages: Math.max(1, Math.floor(options.maxMessages ?? DEFAULT_MAX_MESSAGES)),
    expiresMs: Math.max(1000, options.expiresMs ?? DEFAULT_PULL_EXPIRES_MS),
  };
}

/**
 * Ensures HORSE_CHUNKS, HORSE_DLQ and the durable consumer exist, then starts pulling.
 * Throws PaddockError (NATS) when JetStream refuses.
 */
export async function openJetStreamSource(nc: NatsConnection, input: JetStreamSourceOptions): Promise<JetStreamSource> {
  const options = resolveOptions(input);
  const logger = options.logger.child({ component: 'jetstream-source' });
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, options.streamName, options.subjectPrefix, logger);
  // Dead letters carry the original message's sequence as their ID: one redelivered after a crash
  // between storing its dead letter and terminating it is not stored twice (within the window).
  await ensureStream(jsm, options.dlqStreamName, options.dlqSubjectPrefix, logger, { duplicateWindowMs: DLQ_DUPLICATE_WINDOW_MS });
  await ensureConsumer(jsm, options.streamName, options.consumerName, { ackWaitMs: options.ackWaitMs, maxDeliveries: UNLIMITED_DELIVERIES, maxAckPending: options.maxAckPending }, logger);
  const js = jetstream(nc);
  const consumer = await js.consumers.get(options.streamName, options.consumerName);
  const messages = await consumer.consume({ max_messages: options.maxMessages, expires: options.expiresMs });
  return new JetStreamSource(nc, js, messages, options, logger);
}

export class JetStreamSource implements ChunkSource {
  private readonly pending = new Set<Promise<void>>();
  private stopped = false;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly messages: ConsumerMessages,
    private readonly options: ResolvedOptions,
    private readonly logger: Logger,
  ) {
    void this.watchConsumerStatus();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ChunkDelivery> {
    for await (const msg of this.messages) {
      if (this.stopped) {
        // Pulled but not handed out before stop(): give it straight back (another instance may take it).
        this.trySettle(msg, 'nak', (m) => m.nak());
        continue;
      }
      const delivery = this.accept(msg);
      if (delivery !== undefined) yield delivery;
    }
  }

  ack(delivery: ChunkDelivery): void {
    this.settle(delivery, 'ack', (msg) => msg.ack());
  }

  nak(delivery: ChunkDelivery, delayMs: number): void {
    this.settle(delivery, 'nak', (msg) => msg.nak(Math.max(0, Math.round(delayMs))));
  }

  working(delivery: ChunkDelivery): void {
    this.settle(delivery, 'working', (msg) => msg.working());
  }

  deadLetter(delivery: ChunkDelivery, reason: string): void {
    const msg = delivery.handle as JsMsg;
    const { streamId } = delivery.event;
    this.track(
      this.publishDeadLetter(msg, streamId, reason).then((published) => {
        if (!published) return;
        this.logger.warn({ stream_id: streamId, chunk_id: delivery.event.chunkId, delivery_count: delivery.deliveryCount, reason }, 'chunk dead-lettered');
        callHook(this.options.hooks.onDeadLetter, (error) => this.hookFailed('onDeadLetter', error), streamId, reason);
      }),
    );
  }

  stop(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.stopped = true;
    // `messages.closed()` only settles while iterated, so it is not awaited here.
    this.messages.stop();
    return Promise.resolve();
  }

  /** Waits for dead-letter publishes in progress. */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  async close(): Promise<void> {
    await this.stop();
    await this.settled();
    if (this.nc.isClosed()) return;
    if (this.nc.isDraining()) {
      await this.nc.closed();
      return;
    }
    await this.nc.drain().catch((error: unknown) => this.logger.warn({ err: errorMessage(error) }, 'NATS drain failed'));
  }

  /** The delivery for a valid message; an invalid one is dead-lettered here and never handed on. */
  private accept(msg: JsMsg): ChunkDelivery | undefined {
    const prefix = `${this.options.subjectPrefix}.`;
    const token = msg.subject.startsWith(prefix) ? msg.subject.slice(prefix.length) : '';
    if (!isValidStreamId(token)) {
      return this.refuse(msg, 'subject', INVALID_STREAM_TOKEN, `subject ${msg.subject} does not end in one valid stream id token`);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(msg.string());
    } catch (error) {
      return this.refuse(msg, 'json', token, `payload is not JSON (${errorMessage(error)})`);
    }
    let delivery: ChunkDelivery;
    try {
      delivery = { event: parseChunkEvent(payload), deliveryCount: msg.info.deliveryCount, handle: msg };
    } catch (error) {
      return this.refuse(msg, 'schema', token, errorMessage(error));
    }
    if (delivery.event.streamId !== token) {
      return this.refuse(msg, 'stream-mismatch', token, `payload stream_id ${delivery.event.streamId} does not match subject token ${token}`);
    }
    if (delivery.deliveryCount > 1) callHook(this.options.hooks.onRedelivery, (error) => this.hookFailed('onRedelivery', error), token);
    return delivery;
  }

  /**
   * Dead-letters an invalid message. Counted (onInvalid, onDeadLetter) once its record is stored:
   * a message whose dead letter failed comes back and must not be counted twice.
   */
  private refuse(msg: JsMsg, kind: InvalidKind, streamId: string, reason: string): undefined {
    this.track(
      this.publishDeadLetter(msg, streamId, `invalid message (${kind}): ${reason}`).then((published) => {
        if (!published) return;
        this.logger.warn({ subject: msg.subject, stream_sequence: msg.seq, kind, reason }, 'invalid chunk message dead-lettered');
        callHook(this.options.hooks.onInvalid, (error) => this.hookFailed('onInvalid', error), kind, reason);
        callHook(this.options.hooks.onDeadLetter, (error) => this.hookFailed('onDeadLetter', error), streamId, `EVENT_INVALID: invalid message (${kind}): ${reason}`);
      }),
    );
    return undefined;
  }

  /** Publishes the record (stored by HORSE_DLQ), then terminates the message; on failure naks it instead. */
  private async publishDeadLetter(msg: JsMsg, streamId: string, reason: string): Promise<boolean> {
    const record = deadLetterRecord({
      reason,
      streamId,
      subject: msg.subject,
      deliveryCount: msg.info.deliveryCount,
      payloadText: msg.string(),
      failedAt: new Date(),
    });
    // Headroom for the message's own subject and headers within the server's max_payload.
    const maxBytes = Math.max(4096, (this.nc.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - 4096);
    try {
      await this.js.publish(deadLetterSubject(this.options.dlqSubjectPrefix, streamId), encodeDeadLetter(record, msg.string(), maxBytes), {
        msgID: `${this.options.streamName}:${msg.seq}`,
      });
    } catch (error) {
      this.logger.error({ subject: msg.subject, stream_sequence: msg.seq, err: errorMessage(error) }, 'dead letter could not be published; message left for redelivery');
      this.trySettle(msg, 'nak', (m) => m.nak(DLQ_FAILURE_NAK_MS));
      return false;
    }
    // No reason text: nats-server before 2.10.4 ignores a `+TERM <reason>` it does not understand.
    this.trySettle(msg, 'term', (m) => m.term());
    return true;
  }

  private settle(delivery: ChunkDelivery, action: string, apply: (msg: JsMsg) => void): void {
    this.trySettle(delivery.handle as JsMsg, action, apply);
  }

  private trySettle(msg: JsMsg, action: string, apply: (msg: JsMsg) => void): void {
    try {
      apply(msg);
    } catch (error) {
      // A closed connection: the server redelivers after ack_wait; nothing else to do.
      this.logger.warn({ subject: msg.subject, stream_sequence: msg.seq, action, err: errorMessage(error) }, 'could not settle message');
    }
  }

  private track(work: Promise<void>): void {
    const guarded = work.catch((error: unknown) => this.logger.error({ err: errorMessage(error) }, 'settling failed'));
    this.pending.add(guarded);
    void guarded.finally(() => this.pending.delete(guarded));
  }

  private hookFailed(hook: string, error: unknown): void {
    this.logger.error({ hook, err: errorMessage(error) }, 'source hook threw');
  }

  private async watchConsumerStatus(): Promise<void> {
    try {
      for await (const status of this.messages.status()) {
        switch (status.type) {
          case 'heartbeats_missed':
          case 'consumer_not_found':
          case 'stream_not_found':
          case 'consumer_deleted':
          case 'no_responders':
          case 'exceeded_limits':
            this.logger.warn({ status: status.type }, 'JetStream consumer status');
            break;
          default:
            break;
        }
      }
    } catch (error) {
      this.logger.debug({ err: errorMessage(error) }, 'consumer status stream ended');
    }
  }
}
