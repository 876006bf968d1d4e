import { describe, expect, it } from 'vitest';
import { SimulatedClock, createActor, raise } from 'xstate';
import { provideStreamEffects, streamStateLabel } from '../../machines/stream.ts';
import type { StreamOptions } from '../../machines/options.ts';
import type { ChunkDelivery, StreamEmitted } from '../../machines/types.ts';
import { FakeStore, RecordingPort, advance, deferred, flush, makeDelivery } from './fakes.ts';

const STREAM = 'cam1';

/** A stream actor on its own: slot requests are granted at once (or recorded), settles recorded. */
function startStream(options: Partial<StreamOptions> = {}, { autoGrant = true, store = new FakeStore() } = {}) {
  const port = new RecordingPort();
  const clock = new SimulatedClock();
  const settled: ChunkDelivery[] = [];
  const slot = { requests: 0, releases: 0 };
  const logic = provideStreamEffects(store, port).provide({
    actions: {
      requestSlot: autoGrant ? raise({ type: 'SLOT_GRANTED' }) : () => void (slot.requests += 1),
      releaseSlot: () => void (slot.releases += 1),
      reportSettled: (_, { delivery }) => void settled.push(delivery),
    },
  });
  const actor = createActor(logic, { input: { streamId: STREAM, options }, clock });
  const emitted: StreamEmitted[] = [];
  actor.on('*', (event) => void emitted.push(event));
  const labels: string[] = [];
  const errors: unknown[] = [];
  actor.subscribe({
    next: (snapshot) => {
      const label = streamStateLabel(snapshot);
      if (labels[labels.length - 1] !== label) labels.push(label);
    },
    error: (error) => void errors.push(error),
  });
  actor.start();
  const send = (sequence: number, deliveryCount = 1) => {
    const delivery = makeDelivery(STREAM, sequence, deliveryCount);
    actor.send({ type: 'CHUNK', delivery });
    return delivery;
  };
  const ofType = <T extends StreamEmitted['type']>(type: T) =>
    emitted.filter((e): e is Extract<StreamEmitted, { type: T }> => e.type === type);
  return { actor, store, port, clock, settled, slot, emitted, labels, errors, send, ofType };
}

const chunk = (sequence: number) => `${STREAM}-c${sequence}`;

describe('stream machine', () => {
  it('goes idle → loadingRegistry → checking → awaitingSlot → tracking → persisting → idle, acking after persist', async () => {
    const s = startStream({}, { autoGrant: false });
    s.send(1);
    await flush();
    expect(s.slot.requests).toBe(1);
    s.actor.send({ type: 'SLOT_GRANTED' });
    await flush();
    expect(s.labels).toEqual(['idle', 'loading_registry', 'checking', 'awaiting_slot', 'tracking', 'persisting', 'idle']);
    expect(s.port.calls).toEqual([{ op: 'ack', chunkId: chunk(1) }]);
    expect(s.store.calls.map((c) => c.stage)).toEqual(['load', 'check', 'version', 'track', 'persist']);
    expect(s.settled.map((d) => d.event.chunkId)).toEqual([chunk(1)]);
    expect(s.slot.releases).toBe(1);
    const processed = s.ofType('chunk.processed');
    expect(processed).toHaveLength(1);
    expect(processed[0]).toMatchObject({
      streamId: STREAM,
      outcome: { chunkId: chunk(1) },
      persisted: { registry: { streamId: STREAM, version: 1 } },
      attempts: 1,
      late: false,
    });
    expect(s.errors).toEqual([]);
  });

  it('keeps the registry between chunks and reloads it only when the stored version moved', async () => {
    const s = startStream();
    for (const sequence of [1, 2, 3]) s.send(sequence);
    await flush();
    expect(s.store.count('load')).toBe(1);
    expect(s.port.ops('ack')).toEqual([chunk(1), chunk(2), chunk(3)]);

    s.store.bumpVersion(STREAM); // another writer
    s.send(4);
    await flush();
    expect(s.store.count('load')).toBe(2);
    expect(s.ofType('registry.loaded').map((e) => e.reason)).toEqual(['start', 'version-moved']);
    expect(s.port.ops('ack')).toEqual([chunk(1), chunk(2), chunk(3), chunk(4)]);

    s.send(5);
    await flush();
    expect(s.store.count('load')).toBe(2);
  });

  it('processes out-of-order arrivals strictly in sequence order', async () => {
    const s = startStream();
    for (const sequence of [3, 1, 2]) s.send(sequence);
    await flush();
    expect(s.store.tracked()).toEqual([chunk(1), chunk(2), chunk(3)]);
    expect(s.ofType('chunk.gap')).toEqual([]);
  });

  it('waits for the missing sequence after the last one in the chunk log', async () => {
    const store = new FakeStore();
    store.lastSequence.set(STREAM, 4);
    const s = startStream({}, { store });
    s.send(6);
    await flush();
    expect(s.labels.at(-1)).toBe('waiting_for_gap');
    expect(s.store.tracked()).toEqual([]);
    s.send(5);
    await flush();
    expect(s.store.tracked()).toEqual([chunk(5), chunk(6)]);
    expect(s.ofType('chunk.gap')).toEqual([]);
  });

  it('goes on with the lowest buffered chunk when a gap times out, and processes the straggler late', async () => {
    const store = new FakeStore();
    store.lastSequence.set(STREAM, 0);
    const s = startStream({ gapTimeoutMs: 30_000 }, { store });
    s.send(3);
    s.send(2);
    await flush();
    await advance(s.clock, 29_000);
    expect(s.store.tracked()).toEqual([]);
    await advance(s.clock, 1_000);
    expect(s.store.tracked()).toEqual([chunk(2), chunk(3)]);
    expect(s.ofType('chunk.gap')).toEqual([{ type: 'chunk.gap', streamId: STREAM, expectedSequence: 1, resumedAt: 2, reason: 'timeout' }]);

    s.send(1);
    await flush();
    expect(s.store.tracked()).toEqual([chunk(2), chunk(3), chunk(1)]);
    expect(s.ofType('chunk.processed').map((e) => [e.delivery.event.sequence, e.late])).toEqual([
      [2, false],
      [3, false],
      [1, true],
    ]);
    // The expected sequence did not move back: the next chunk is 4, processed without waiting.
    s.send(4);
    await flush();
    expect(s.store.tracked().at(-1)).toBe(chunk(4));
  });

  it('goes on at once, with a gap, when the buffer is full', async () => {
    const store = new FakeStore();
    store.lastSequence.set(STREAM, 0);
    const s = startStream({ maxBuffer: 3 }, { store });
    s.send(2);
    s.send(3);
    await flush();
    expect(s.store.tracked()).toEqual([]);
    s.send(4);
    await flush();
    expect(s.store.tracked()).toEqual([chunk(2), chunk(3), chunk(4)]);
    expect(s.ofType('chunk.gap')).toEqual([
      { type: 'chunk.gap', streamId: STREAM, expectedSequence: 1, resumedAt: 2, reason: 'buffer-full' },
    ]);
  });

  it('acks and skips a chunk that is already in the chunk log', async () => {
    const store = new FakeStore();
    store.chunkLog.set(STREAM, new Set([chunk(1)]));
    const s = startStream({}, { store });
    s.send(1);
    s.send(2);
    s.send(2); // a redelivery of 2 while 2 is in flight
    await flush();
    expect(s.store.tracked()).toEqual([chunk(2)]);
    expect(s.port.ops('ack')).toEqual([chunk(1), chunk(2), chunk(2)]);
    expect(s.ofType('chunk.skipped').map((e) => e.delivery.event.chunkId)).toEqual([chunk(1), chunk(2)]);
    expect(s.settled).toHaveLength(3);
  });

  it('retries a failing stage with exponential backoff from that stage', async () => {
    const s = startStream({ retryBaseMs: 1_000, retryMaxMs: 30_000, maxAttempts: 5 });
    s.store.failures.set('track', 2);
    s.send(1);
    await flush();
    expect(s.labels.at(-1)).toBe('retrying');
    expect(s.ofType('chunk.failed').map((e) => [e.stage, e.attempt, e.retryInMs])).toEqual([['track', 1, 1_000]]);
    await advance(s.clock, 999, 999);
    expect(s.store.count('track')).toBe(1);
    await advance(s.clock, 1, 1);
    expect(s.store.count('track')).toBe(2);
    expect(s.ofType('chunk.failed').map((e) => e.retryInMs)).toEqual([1_000, 2_000]);
    await advance(s.clock, 1_999, 1_999);
    expect(s.store.count('track')).toBe(2);
    await advance(s.clock, 1, 1);
    expect(s.store.count('track')).toBe(3);
    expect(s.port.ops('ack')).toEqual([chunk(1)]);
    expect(s.ofType('chunk.processed')[0]?.attempts).toBe(3);
    // tracking was retried, not re-checked; the slot was given back after each failed try.
    expect(s.store.count('check')).toBe(1);
    expect(s.slot.releases).toBe(3);
  });

  it('retries persisting without tracking again', async () => {
    const s = startStream({ retryBaseMs: 100 });
    s.store.failures.set('persist', 1);
    s.send(1);
    await flush();
    await advance(s.clock, 100, 100);
    expect(s.store.count('track')).toBe(1);
    expect(s.store.count('persist')).toBe(2);
    expect(s.port.ops('ack')).toEqual([chunk(1)]);
  });

  it('dead-letters a chunk after max attempts and goes on with the next', async () => {
    const s = startStream({ maxAttempts: 3, retryBaseMs: 10 });
    s.store.failures.set('track', 3);
    s.send(1);
    s.send(2);
    await flush();
    await advance(s.clock, 100, 10);
    expect(s.store.tracked()).toEqual([chunk(1), chunk(1), chunk(1), chunk(2)]);
    const dead = s.port.calls.filter((c) => c.op === 'deadLetter');
    expect(dead).toEqual([{ op: 'deadLetter', chunkId: chunk(1), reason: 'track failed 3 times: track failed (injected)' }]);
    expect(s.ofType('chunk.deadLettered').map((e) => e.delivery.event.chunkId)).toEqual([chunk(1)]);
    expect(s.ofType('chunk.failed').map((e) => e.retryInMs)).toEqual([10, 20, null]);
    expect(s.port.ops('ack')).toEqual([chunk(2)]);
    expect(s.settled.map((d) => d.event.chunkId)).toEqual([chunk(1), chunk(2)]);
  });

  it('dead-letters a chunk at once when its failure is permanent (no retry can fix it)', async () => {
    const s = startStream({ maxAttempts: 5, retryBaseMs: 10 });
    const original = s.store.processChunk.bind(s.store);
    let calls = 0;
    s.store.processChunk = async (input) => {
      calls += 1;
      if (input.event.sequence === 1) throw Object.assign(new Error('chunk file is missing'), { permanent: true });
      return original(input);
    };
    s.send(1);
    s.send(2);
    await flush();
    await advance(s.clock, 100, 10);
    expect(calls).toBe(2);
    expect(s.port.calls.filter((c) => c.op === 'deadLetter')).toEqual([
      { op: 'deadLetter', chunkId: chunk(1), reason: 'track failed permanently: chunk file is missing' },
    ]);
    expect(s.port.ops('ack')).toEqual([chunk(2)]);
  });

  it('processes a delivery redelivered many times (restarts, shutdowns, outages never count against a chunk)', async () => {
    const s = startStream({ maxDeliveries: 3 });
    s.send(1, 40);
    await flush();
    expect(s.store.tracked()).toEqual([chunk(1)]);
    expect(s.port.ops('ack')).toEqual([chunk(1)]);
  });

  it('dead-letters, without processing, a chunk during which the process died maxDeliveries times', async () => {
    const s = startStream({ maxDeliveries: 3 });
    s.store.interrupted.set(chunk(1), 3);
    s.send(1, 7);
    s.send(2);
    await flush();
    expect(s.store.tracked()).toEqual([chunk(2)]);
    expect(s.port.calls.filter((c) => c.op === 'deadLetter')).toEqual([
      { op: 'deadLetter', chunkId: chunk(1), reason: 'processing was cut short 3 times by the process dying (limit 3)' },
    ]);
  });

  it('never dead-letters a chunk the database could not save: it is given back for later', async () => {
    const s = startStream({ maxAttempts: 2 });
    s.store.failures.set('persist', 5);
    s.send(1);
    await advance(s.clock, 10_000, 500);
    expect(s.port.calls.filter((c) => c.op === 'deadLetter')).toEqual([]);
    expect(s.port.ops('nak')).toEqual([chunk(1)]);
  });

  it('on a stream with an empty chunk log, starts at sequence 1 even when later chunks arrive first', async () => {
    const s = startStream({ gapTimeoutMs: 30_000 });
    s.send(3);
    s.send(2);
    await flush();
    expect(s.store.tracked()).toEqual([]);
    s.send(1);
    await flush();
    expect(s.store.tracked()).toEqual([chunk(1), chunk(2), chunk(3)]);
  });

  it('on a stream picked up mid-way, waits for the gap timeout before starting at its lowest chunk', async () => {
    const s = startStream({ gapTimeoutMs: 5_000 });
    s.send(8);
    s.send(7);
    await flush();
    expect(s.store.tracked()).toEqual([]);
    await advance(s.clock, 6_000, 1_000);
    expect(s.store.tracked()).toEqual([chunk(7), chunk(8)]);
    expect(s.ofType('chunk.gap').map((e) => [e.expectedSequence, e.resumedAt, e.reason])).toEqual([[1, 7, 'timeout']]);
  });

  it('dead-letters a delivery with an invalid sequence at once and keeps going', async () => {
    const s = startStream();
    const bad = makeDelivery(STREAM, 9);
    s.actor.send({ type: 'CHUNK', delivery: { ...bad, event: { ...bad.event, sequence: Number.NaN } } });
    s.send(1);
    await flush();
    expect(s.port.calls).toEqual([
      { op: 'deadLetter', chunkId: chunk(9), reason: 'invalid sequence NaN' },
      { op: 'ack', chunkId: chunk(1) },
    ]);
    expect(s.settled).toHaveLength(2);
  });

  it('naks everything it holds when the registry stays unreachable, and reloads on the next chunk', async () => {
    const s = startStream({ maxAttempts: 2, retryBaseMs: 10, unavailableNakDelayMs: 5_000 });
    s.store.failures.set('load', 2);
    s.send(1);
    s.send(2);
    await flush();
    await advance(s.clock, 50, 10);
    expect(s.port.calls).toEqual([
      { op: 'nak', chunkId: chunk(1), delayMs: 5_000 },
      { op: 'nak', chunkId: chunk(2), delayMs: 5_000 },
    ]);
    expect(s.ofType('registry.unavailable')).toMatchObject([{ stage: 'load', nakked: 2 }]);
    expect(s.labels.at(-1)).toBe('idle');
    s.send(1, 2);
    await flush();
    expect(s.store.count('load')).toBe(3);
    expect(s.port.ops('ack')).toEqual([chunk(1)]);
  });

  it('waits in awaitingSlot until the slot is granted', async () => {
    const s = startStream({}, { autoGrant: false });
    s.send(1);
    await flush();
    expect(s.labels.at(-1)).toBe('awaiting_slot');
    expect(s.slot.requests).toBe(1);
    s.actor.send({ type: 'SLOT_GRANTED' });
    await flush();
    expect(s.port.ops('ack')).toEqual([chunk(1)]);
    // An unexpected grant is handed back.
    s.actor.send({ type: 'SLOT_GRANTED' });
    expect(s.slot.releases).toBe(2);
  });

  it('on STOP while idle or waiting, naks what it holds and stops', async () => {
    const store = new FakeStore();
    store.lastSequence.set(STREAM, 0);
    const s = startStream({ stopNakDelayMs: 0 }, { store });
    s.send(3);
    await flush();
    expect(s.labels.at(-1)).toBe('waiting_for_gap');
    s.actor.send({ type: 'STOP' });
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.port.calls).toEqual([{ op: 'nak', chunkId: chunk(3), delayMs: 0 }]);
    expect(s.settled).toHaveLength(1);
  });

  it('on STOP while tracking, finishes and acks the chunk, naks the buffered ones, then stops', async () => {
    const gate = deferred<void>();
    const store = new FakeStore();
    store.trackGate = () => gate.promise;
    const s = startStream({}, { store });
    s.send(1);
    s.send(2);
    await flush();
    s.actor.send({ type: 'STOP' });
    s.send(3); // arrives after the stop: given back at once
    expect(s.port.calls).toEqual([
      { op: 'nak', chunkId: chunk(2), delayMs: 0 },
      { op: 'nak', chunkId: chunk(3), delayMs: 0 },
    ]);
    expect(s.actor.getSnapshot().status).toBe('active');
    gate.resolve();
    await flush();
    expect(s.port.calls.at(-1)).toEqual({ op: 'ack', chunkId: chunk(1) });
    expect(s.actor.getSnapshot().status).toBe('done');
    expect(s.settled).toHaveLength(3);
  });

  it('on STOP while tracking a chunk that then fails, naks it instead of retrying', async () => {
    const gate = deferred<void>();
    const store = new FakeStore();
    store.trackGate = () => gate.promise;
    store.failures.set('track', 1);
    const s = startStream({}, { store });
    s.send(1);
    await flush();
    s.actor.send({ type: 'STOP' });
    gate.resolve();
    await flush();
    expect(s.port.calls).toEqual([{ op: 'nak', chunkId: chunk(1), delayMs: 0 }]);
    expect(s.actor.getSnapshot().status).toBe('done');
  });
});
