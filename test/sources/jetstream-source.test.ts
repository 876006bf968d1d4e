import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { nanos } from '@nats-io/transport-node';
import { silentLogger } from '../../src/log/index.ts';
import { chunkEventToPayload, ensureConsumer, ensureStream, openJetStreamSource } from '../../src/sources/index.ts';
import type { DeadLetterRecord, InvalidKind, JetStreamSourceOptions } from '../../src/sources/index.ts';
import type { ChunkDelivery, ChunkEvent } from '../../machines/types.ts';
import { serviceAvailable } from '../helpers/services.ts';
import { Puller, connectTestNats, deleteStreams, scratchNames, waitFor } from './helpers.ts';

const natsUp = await serviceAvailable('nats');
const logger = silentLogger();

function chunk(streamId: string, sequence: number): ChunkEvent {
  return {
    streamId,
    chunkId: `${streamId}-${sequence}`,
    sequence,
    uri: `/videos/${streamId}/${sequence}.mp4`,
    startTime: new Date('2026-01-02T03:04:05.000Z'),
    durationS: 10,
  };
}

describe.skipIf(!natsUp)('JetStream source (real NATS)', () => {
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    nc = await connectTestNats();
    jsm = await jetstreamManager(nc);
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  afterAll(async () => {
    await nc?.drain();
  });

  /** A source on scratch streams, with its hooks recorded; removed after the test. */
  async function scratchSource(label: string, overrides: Partial<JetStreamSourceOptions> = {}) {
    const names = scratchNames(label);
    const calls = { invalid: [] as Array<[InvalidKind, string]>, redelivered: [] as string[], deadLettered: [] as Array<[string, string]> };
    const source = await openJetStreamSource(nc, {
      logger,
      ...names,
      maxDeliveries: 5,
      ackWaitMs: 5000,
      hooks: {
        onInvalid: (kind, reason) => calls.invalid.push([kind, reason]),
        onRedelivery: (streamId) => calls.redelivered.push(streamId),
        onDeadLetter: (streamId, reason) => calls.deadLettered.push([streamId, reason]),
      },
      ...overrides,
    });
    cleanups.push(async () => {
      await source.stop();
      await source.settled();
      await deleteStreams(nc, names.streamName, names.dlqStreamName);
    });
    const js = jetstream(nc);
    const publish = async (subjectToken: string, payload: string) => (await js.publish(`${names.subjectPrefix}.${subjectToken}`, payload)).seq;
    const publishEvent = (event: ChunkEvent) => publish(event.streamId, JSON.stringify(chunkEventToPayload(event)));
    const consumerInfo = () => jsm.consumers.info(names.streamName, names.consumerName);
    /** Waits until every message up to `seq` was delivered and none is waiting for an ack (acked or terminated). */
    const settledUpTo = (seq: number) =>
      waitFor(async () => {
        const info = await consumerInfo();
        return info.num_ack_pending === 0 && info.num_pending === 0 && info.delivered.stream_seq >= seq ? info : undefined;
      }, 5000, `all settled up to ${seq}`);
    const dlqMessages = async (count: number) =>
      waitFor(async () => {
        const info = await jsm.streams.info(names.dlqStreamName);
        if (info.state.messages < count) return undefined;
        const records: Array<{ subject: string; record: DeadLetterRecord }> = [];
        for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
          const stored = await jsm.streams.getMessage(names.dlqStreamName, { seq });
          if (stored !== null) records.push({ subject: stored.subject, record: stored.json<DeadLetterRecord>() });
        }
        return records;
      }, 5000, `${count} dead letters`);
    return { names, source, calls, publish, publishEvent, consumerInfo, settledUpTo, dlqMessages, puller: Puller.of<ChunkDelivery>(source) };
  }

  it('creates the streams and the durable consumer, and re-creates them idempotently', async () => {
    const { names } = await scratchSource('topo', { ackWaitMs: 7000, maxDeliveries: 4, maxAckPending: 8 });
    const stream = await jsm.streams.info(names.streamName);
    expect(stream.config.subjects).toEqual([`${names.subjectPrefix}.>`]);
    expect(stream.config.storage).toBe('file');
    expect(stream.config.retention).toBe('limits');
    expect((await jsm.streams.info(names.dlqStreamName)).config.subjects).toEqual([`${names.dlqSubjectPrefix}.>`]);
    const consumer = await jsm.consumers.info(names.streamName, names.consumerName);
    // Unlimited redeliveries: restarts, shutdowns and outages never use up a chunk (the machines count its own failures).
    expect(consumer.config).toMatchObject({ durable_name: names.consumerName, ack_policy: 'explicit', ack_wait: nanos(7000), max_deliver: -1, max_ack_pending: 8 });

    // Again: nothing changes, nothing fails.
    await ensureStream(jsm, names.streamName, names.subjectPrefix, logger);
    const same = await ensureConsumer(jsm, names.streamName, names.consumerName, { ackWaitMs: 7000, maxDeliveries: -1, maxAckPending: 8 }, logger);
    expect(same.created).toEqual(consumer.created);
    // Different settings update the existing consumer.
    const updated = await ensureConsumer(jsm, names.streamName, names.consumerName, { ackWaitMs: 9000, maxDeliveries: 6, maxAckPending: 16 }, logger);
    expect(updated.config).toMatchObject({ ack_wait: nanos(9000), max_deliver: 6, max_ack_pending: 16 });
    expect((await jsm.consumers.info(names.streamName, names.consumerName)).config.max_deliver).toBe(6);
  });

  it('hands over a valid event and an ack settles it for good', async () => {
    const s = await scratchSource('ack');
    const seq = await s.publishEvent(chunk('cam1', 7));
    const delivery = await s.puller.value(5000);
    expect(delivery.event).toEqual(chunk('cam1', 7));
    expect(delivery.deliveryCount).toBe(1);
    s.source.ack(delivery);
    const info = await s.settledUpTo(seq);
    expect(info.num_pending).toBe(0);
    expect(info.num_redelivered).toBe(0);
    expect(s.calls.redelivered).toEqual([]);
  });

  it('redelivers a nak after its delay with deliveryCount 2', async () => {
    const s = await scratchSource('nak');
    await s.publishEvent(chunk('cam2', 1));
    const first = await s.puller.value(5000);
    const nakAt = Date.now();
    s.source.nak(first, 400);
    const second = await s.puller.value(5000);
    expect(Date.now() - nakAt).toBeGreaterThanOrEqual(300);
    expect(second.event).toEqual(first.event);
    expect(second.deliveryCount).toBe(2);
    expect(s.calls.redelivered).toEqual(['cam2']);
    s.source.ack(second);
  });

  it("redelivers a nak'd message however often (a chunk given back at every shutdown is never used up)", async () => {
    const s = await scratchSource('max', { maxDeliveries: 1 });
    await s.publishEvent(chunk('cam7', 1));
    let delivery = await s.puller.value(5000);
    for (let i = 0; i < 6; i += 1) {
      s.source.nak(delivery, 0);
      delivery = await s.puller.value(5000);
    }
    expect(delivery.deliveryCount).toBe(7);
    s.source.ack(delivery);
  });

  it('working() keeps a message past its ack wait; without it the message is redelivered', async () => {
    const s = await scratchSource('wip', { ackWaitMs: 1000 });
    await s.publishEvent(chunk('cam3', 1));
    const held = await s.puller.value(5000);
    for (let i = 0; i < 4; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 450));
      s.source.working(held);
    }
    expect(await s.puller.next(200)).toBe('timeout');
    // Left alone, the same message comes back after ack_wait.
    const again = await s.puller.value(3000);
    expect(again.deliveryCount).toBe(2);
    s.source.ack(again);
  });

  it('dead-letters with the reason and the original payload, and never redelivers', async () => {
    const s = await scratchSource('dlq');
    const event = chunk('cam4', 3);
    const seq = await s.publishEvent(event);
    const delivery = await s.puller.value(5000);
    s.source.deadLetter(delivery, 'track failed 5 times: VIDEO_CORRUPT');
    const [dead] = await s.dlqMessages(1);
    expect(dead?.subject).toBe(`${s.names.dlqSubjectPrefix}.cam4`);
    expect(dead?.record).toMatchObject({
      reason: 'track failed 5 times: VIDEO_CORRUPT',
      stream_id: 'cam4',
      subject: `${s.names.subjectPrefix}.cam4`,
      delivery_count: 1,
      payload: chunkEventToPayload(event),
    });
    expect(Number.isNaN(Date.parse(dead?.record.failed_at ?? ''))).toBe(false);
    await s.settledUpTo(seq);
    await waitFor(() => (s.calls.deadLettered.length > 0 ? true : undefined), 2000, 'onDeadLetter');
    expect(s.calls.deadLettered).toEqual([['cam4', 'track failed 5 times: VIDEO_CORRUPT']]);
    expect(await s.puller.next(300)).toBe('timeout');
  });

  it('stores one dead letter per message even when it is dead-lettered again (a crash before the message was terminated)', async () => {
    const s = await scratchSource('dlq-twice');
    await s.publishEvent(chunk('cam8', 1));
    const delivery = await s.puller.value(5000);
    s.source.deadLetter(delivery, 'track failed permanently: VIDEO_FORBIDDEN');
    await s.dlqMessages(1);
    s.source.deadLetter(delivery, 'track failed permanently: VIDEO_FORBIDDEN'); // as after a redelivery
    await s.source.settled();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await jsm.streams.info(s.names.dlqStreamName)).state.messages).toBe(1);
  });

  it('dead-letters invalid messages itself and never hands them over', async () => {
    const s = await scratchSource('bad');
    await s.publish('cam5', '{not json');
    await s.publish('cam5', JSON.stringify({ ...chunkEventToPayload(chunk('cam5', 1)), uri: 'ftp://host/x.mp4' }));
    await s.publish('cam5', JSON.stringify(chunkEventToPayload(chunk('other', 1))));
    await s.publish('cam5.extra', JSON.stringify(chunkEventToPayload(chunk('cam5', 1))));
    const lastSeq = await s.publishEvent(chunk('cam5', 2));

    const delivery = await s.puller.value(5000);
    expect(delivery.event.sequence).toBe(2);
    s.source.ack(delivery);

    const dead = await s.dlqMessages(4);
    // Counted once each, when the dead letter is stored (the dead-letter alert sees them).
    await waitFor(() => (s.calls.deadLettered.length >= 4 ? true : undefined), 3000, 'onDeadLetter for the invalid messages');
    expect(s.calls.invalid.map(([kind]) => kind).sort()).toEqual(['json', 'schema', 'stream-mismatch', 'subject']);
    expect(s.calls.deadLettered.map(([streamId]) => streamId).sort()).toEqual(['_invalid', 'cam5', 'cam5', 'cam5']);
    expect(s.calls.deadLettered.every(([, reason]) => reason.startsWith('EVENT_INVALID: invalid message ('))).toBe(true);
    expect(dead.map((d) => d.subject)).toEqual([
      `${s.names.dlqSubjectPrefix}.cam5`,
      `${s.names.dlqSubjectPrefix}.cam5`,
      `${s.names.dlqSubjectPrefix}.cam5`,
      `${s.names.dlqSubjectPrefix}._invalid`,
    ]);
    expect(dead[0]?.record).toMatchObject({ payload: '{not json', stream_id: 'cam5' });
    expect(dead[0]?.record.reason).toMatch(/not JSON/);
    expect(dead[1]?.record.reason).toMatch(/uri .*ftp/);
    expect(dead[2]?.record.reason).toMatch(/stream_id other does not match subject token cam5/);
    expect(dead[3]?.record.subject).toBe(`${s.names.subjectPrefix}.cam5.extra`);
    await s.settledUpTo(lastSeq);
    expect(s.calls.deadLettered).toHaveLength(4);
    expect(s.calls.invalid).toHaveLength(4);
  });

  it('stores the dead letter of a 600 KB payload of quotes and of deeply nested JSON: never nak-looped and lost', async () => {
    const s = await scratchSource('huge');
    await s.publish('cam6', '"'.repeat(600 * 1024));
    await s.publish('cam6', `${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    const lastSeq = await s.publishEvent(chunk('cam6', 1));
    s.source.ack(await s.puller.value(5000));
    const dead = await s.dlqMessages(2);
    expect(dead[0]?.record).toMatchObject({ stream_id: 'cam6', payload_truncated: true, payload_bytes: 600 * 1024 });
    expect(typeof dead[1]?.record.payload).toBe('string');
    const info = await s.settledUpTo(lastSeq);
    expect(info.num_redelivered).toBe(0);
  });

  it('stop() ends the iteration but deliveries in hand can still be settled', async () => {
    const s = await scratchSource('stop');
    const seq = await s.publishEvent(chunk('cam6', 1));
    const delivery = await s.puller.value(5000);
    await s.source.stop();
    expect(await s.puller.next(2000)).toBe('done');
    s.source.ack(delivery);
    await s.settledUpTo(seq);
  });
});
