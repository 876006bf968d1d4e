import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { childIdOf } from '../../machines/supervisor.ts';
import { startSupervisor } from '../../machines/supervisor-host.ts';
import type { SupervisorOptionsInput } from '../../machines/options.ts';
import type { StreamEmitted, SupervisorEmitted } from '../../machines/types.ts';
import { PaddockError } from '../../src/errors/index.ts';
import { FakeStore, RecordingPort, advance, deferred, flush, makeDelivery } from './fakes.ts';
import type { Deferred } from './fakes.ts';

function start(options: SupervisorOptionsInput = {}, store = new FakeStore(), port = new RecordingPort()) {
  const clock = new SimulatedClock();
  const errors: unknown[] = [];
  const streamEvents: StreamEmitted[] = [];
  const supervisorEvents: SupervisorEmitted[] = [];
  const handle = startSupervisor({
    effects: store,
    port,
    options,
    clock,
    onError: (error) => void errors.push(error),
    onStreamEvent: (event) => void streamEvents.push(event),
    onSupervisorEvent: (event) => void supervisorEvents.push(event),
  });
  const send = (streamId: string, sequence: number) => {
    const delivery = makeDelivery(streamId, sequence);
    handle.send(delivery);
    return delivery;
  };
  const children = () => Object.keys(handle.actor.getSnapshot().children).sort();
  const ofType = <T extends SupervisorEmitted['type']>(type: T) =>
    supervisorEvents.filter((e): e is Extract<SupervisorEmitted, { type: T }> => e.type === type);
  return { handle, clock, store, port, errors, streamEvents, supervisorEvents, send, children, ofType };
}

/** processChunk waits on a deferred per call; counts how many are tracking at once. */
function gatedStore() {
  const store = new FakeStore();
  const gates: Array<{ chunkId: string; gate: Deferred<void> }> = [];
  const inflight = { now: 0, max: 0 };
  store.trackGate = async (event) => {
    const gate = deferred<void>();
    gates.push({ chunkId: event.chunkId, gate });
    inflight.now += 1;
    inflight.max = Math.max(inflight.max, inflight.now);
    try {
      await gate.promise;
    } finally {
      inflight.now -= 1;
    }
  };
  return { store, gates, inflight };
}

describe('supervisor machine', () => {
  it('spawns one stream actor per stream on its first delivery and routes by stream id', async () => {
    const s = start();
    for (const sequence of [1, 2, 3]) {
      s.send('a', sequence);
      s.send('b', sequence);
    }
    await s.handle.whenIdle();
    expect(s.children()).toEqual([childIdOf('a'), childIdOf('b')]);
    expect(s.ofType('stream.spawned').map((e) => e.streamId)).toEqual(['a', 'b']);
    expect(s.store.tracked('a')).toEqual(['a-c1', 'a-c2', 'a-c3']);
    expect(s.store.tracked('b')).toEqual(['b-c1', 'b-c2', 'b-c3']);
    expect(s.port.ops('ack')).toHaveLength(6);
    expect(s.streamEvents.filter((e) => e.type === 'chunk.processed')).toHaveLength(6);
    expect(s.handle.actorCounts()).toMatchObject({ idle: 2, tracking: 0 });
    expect(s.errors).toEqual([]);
  });

  it('never has more than maxInflight chunks tracking across streams', async () => {
    const { store, gates, inflight } = gatedStore();
    const s = start({ maxInflight: 3 }, store);
    for (let i = 0; i < 8; i += 1) s.send(`s${i}`, 1);
    await flush();
    expect(inflight.now).toBe(3);
    expect(s.handle.actorCounts()).toMatchObject({ tracking: 3, awaiting_slot: 5 });
    while (gates.some((g) => g.gate !== null)) {
      const next = gates.shift();
      if (next === undefined) break;
      next.gate.resolve();
      await flush();
    }
    await s.handle.whenIdle();
    expect(inflight.max).toBe(3);
    expect(s.port.ops('ack')).toHaveLength(8);
  });

  it('admits streams fairly: a stream with 100 queued chunks does not starve another', async () => {
    const { store, gates } = gatedStore();
    const s = start({ maxInflight: 1 }, store);
    for (let sequence = 1; sequence <= 100; sequence += 1) s.send('busy', sequence);
    await flush();
    s.send('quiet', 1);
    s.send('quiet', 2);
    await flush();
    let released = 0;
    while (released < 30) {
      const next = gates.shift();
      if (next === undefined) break;
      next.gate.resolve();
      released += 1;
      await flush();
    }
    const order = store.tracked();
    // busy-1 was tracking when quiet asked; quiet goes next, then they alternate.
    expect(order.slice(0, 5)).toEqual(['busy-c1', 'quiet-c1', 'busy-c2', 'quiet-c2', 'busy-c3']);
    expect(order.slice(5, 10)).toEqual(['busy-c4', 'busy-c5', 'busy-c6', 'busy-c7', 'busy-c8']);
  });

  it('stops actors idle longer than the timeout, and a new delivery spawns a fresh one that reloads the registry', async () => {
    const s = start({ idleTimeoutMs: 60_000, idleSweepMs: 10_000 });
    s.send('a', 1);
    await s.handle.whenIdle();
    await advance(s.clock, 50_000, 10_000);
    expect(s.children()).toEqual([childIdOf('a')]);
    await advance(s.clock, 20_000, 10_000);
    expect(s.children()).toEqual([]);
    expect(s.ofType('stream.stopped')).toEqual([{ type: 'stream.stopped', streamId: 'a', reason: 'idle' }]);
    expect(s.store.count('load', 'a')).toBe(1);

    s.send('a', 2);
    await s.handle.whenIdle();
    expect(s.children()).toEqual([childIdOf('a')]);
    expect(s.store.count('load', 'a')).toBe(2);
    expect(s.port.ops('ack')).toEqual(['a-c1', 'a-c2']);
  });

  it('does not stop an actor that is still holding deliveries', async () => {
    const { store, gates } = gatedStore();
    const s = start({ idleTimeoutMs: 1_000, idleSweepMs: 500 }, store);
    s.send('a', 1);
    await flush();
    await advance(s.clock, 5_000, 500);
    expect(s.children()).toEqual([childIdOf('a')]);
    gates[0]?.gate.resolve();
    await s.handle.whenIdle();
    await advance(s.clock, 1_500, 500);
    expect(s.children()).toEqual([]);
  });

  it('signals working() every interval for every held delivery, in flight or waiting, and stops once settled', async () => {
    const { store, gates } = gatedStore();
    const s = start({ maxInflight: 1, workingIntervalMs: 10_000 }, store);
    s.send('a', 1);
    s.send('a', 2);
    s.send('b', 1);
    await flush();
    await advance(s.clock, 9_999, 9_999);
    expect(s.port.ops('working')).toEqual([]);
    await advance(s.clock, 1, 1);
    expect(s.port.ops('working')).toEqual(['a-c1', 'a-c2', 'b-c1']);
    gates.shift()?.gate.resolve();
    await flush();
    await advance(s.clock, 10_000, 10_000);
    expect(s.port.ops('working')).toEqual(['a-c1', 'a-c2', 'b-c1', 'a-c2', 'b-c1']);
    for (let i = 0; i < 2; i += 1) {
      gates.shift()?.gate.resolve();
      await flush();
    }
    await s.handle.whenIdle();
    await advance(s.clock, 30_000, 10_000);
    expect(s.port.ops('working')).toHaveLength(5);
  });

  it('forgets a stream actor that stopped on its own and spawns a fresh one for its next delivery', async () => {
    const { store, gates } = gatedStore();
    const s = start({}, store);
    s.send('a', 1);
    s.send('a', 2);
    await flush();
    s.handle.actor.getSnapshot().children[childIdOf('a')]?.send({ type: 'STOP' });
    gates.shift()?.gate.resolve();
    await flush();
    expect(s.ofType('stream.stopped')).toEqual([{ type: 'stream.stopped', streamId: 'a', reason: 'done' }]);
    expect(s.port.calls.filter((c) => c.op !== 'working')).toEqual([
      { op: 'nak', chunkId: 'a-c2', delayMs: 0 },
      { op: 'ack', chunkId: 'a-c1' },
    ]);
    expect(s.children()).toEqual([]);
    s.send('a', 2);
    await flush();
    gates.shift()?.gate.resolve();
    await s.handle.whenIdle();
    expect(s.port.calls.at(-1)).toEqual({ op: 'ack', chunkId: 'a-c2' });
    expect(s.store.count('load', 'a')).toBe(2);
  });

  it('restarts a crashed stream actor with backoff and re-delivers the chunk that was in flight', async () => {
    const port = new RecordingPort();
    let throwOnAck = 1;
    port.onAck = () => {
      if (throwOnAck > 0) {
        throwOnAck -= 1;
        throw new Error('ack exploded');
      }
    };
    const s = start({ restart: { backoffBaseMs: 1_000 } }, new FakeStore(), port);
    s.send('a', 1);
    await flush();
    expect(s.ofType('stream.crashed')).toMatchObject([{ streamId: 'a', restartInMs: 1_000 }]);
    expect(s.children()).toEqual([]);
    expect(s.handle.actorCounts().restarting).toBe(1);
    s.send('a', 2); // held until the restart
    await advance(s.clock, 999, 999);
    expect(s.children()).toEqual([]);
    await advance(s.clock, 1, 1);
    expect(s.ofType('stream.restarted')).toEqual([{ type: 'stream.restarted', streamId: 'a', redelivered: 2 }]);
    await s.handle.whenIdle();
    // The fresh actor reloaded the registry, found chunk 1 in the log (it was persisted before the crash), acked and skipped it.
    expect(s.store.count('load', 'a')).toBe(2);
    expect(s.store.tracked('a')).toEqual(['a-c1', 'a-c2']);
    expect(s.port.ops('ack')).toEqual(['a-c1', 'a-c1', 'a-c2']);
    expect(s.streamEvents.filter((e) => e.type === 'chunk.skipped').map((e) => e.delivery.event.chunkId)).toEqual(['a-c1']);
    expect(s.errors).toEqual([]);
  });

  it('marks a stream failed after too many restarts in the window and naks its deliveries until the cooldown ends', async () => {
    const port = new RecordingPort();
    let acksToThrow = 3;
    port.onAck = () => {
      if (acksToThrow > 0) {
        acksToThrow -= 1;
        throw new Error('ack exploded');
      }
    };
    const s = start(
      { restart: { maxRestarts: 2, windowMs: 60_000, backoffBaseMs: 1_000, failedCooldownMs: 120_000, failedNakDelayMs: 30_000 } },
      new FakeStore(),
      port,
    );
    s.send('a', 1);
    await flush();
    await advance(s.clock, 1_000, 500); // restart 1, crashes again
    await advance(s.clock, 2_000, 500); // restart 2, crashes a third time
    expect(s.ofType('stream.crashed').map((e) => e.restartInMs)).toEqual([1_000, 2_000, null]);
    expect(s.ofType('stream.failed')).toMatchObject([{ streamId: 'a', nakked: 1 }]);
    expect(s.port.calls.at(-1)).toEqual({ op: 'nak', chunkId: 'a-c1', delayMs: 30_000 });
    expect(s.handle.actorCounts().failed).toBe(1);

    s.send('a', 1);
    expect(s.port.calls.at(-1)).toEqual({ op: 'nak', chunkId: 'a-c1', delayMs: 30_000 });
    expect(s.ofType('delivery.rejected')).toHaveLength(1);

    await advance(s.clock, 120_000, 10_000);
    s.send('a', 1);
    await s.handle.whenIdle();
    expect(s.port.calls.at(-1)).toEqual({ op: 'ack', chunkId: 'a-c1' });
    expect(s.errors).toEqual([]);
  });

  it('on SHUTDOWN lets in-flight chunks finish, naks what has not started and new deliveries, then stops', async () => {
    const { store, gates } = gatedStore();
    const s = start({ maxInflight: 1 }, store);
    s.send('a', 1);
    s.send('a', 2);
    await flush();
    s.send('b', 1);
    await flush();
    expect(s.handle.actorCounts()).toMatchObject({ tracking: 1, awaiting_slot: 1 });
    const stopped = s.handle.stop();
    await flush();
    expect(s.port.calls).toEqual([
      { op: 'nak', chunkId: 'a-c2', delayMs: 0 },
      { op: 'nak', chunkId: 'b-c1', delayMs: 0 },
    ]);
    s.send('c', 1);
    expect(s.port.calls.at(-1)).toEqual({ op: 'nak', chunkId: 'c-c1', delayMs: 0 });
    expect(s.handle.actor.getSnapshot().status).toBe('active');
    gates[0]?.gate.resolve();
    await stopped;
    expect(s.port.calls.at(-1)).toEqual({ op: 'ack', chunkId: 'a-c1' });
    expect(s.handle.actor.getSnapshot().status).toBe('done');
    expect(s.store.tracked()).toEqual(['a-c1']);
  });

  it('on SHUTDOWN past the deadline naks the chunks still in flight and stops', async () => {
    const { store } = gatedStore();
    const s = start({ shutdownDeadlineMs: 30_000 }, store);
    s.send('a', 1);
    s.send('b', 1);
    await flush();
    const stopped = s.handle.stop();
    await advance(s.clock, 29_000, 1_000);
    expect(s.handle.actor.getSnapshot().status).toBe('active');
    await advance(s.clock, 1_000, 1_000);
    await stopped;
    expect(s.port.calls.filter((c) => c.op !== 'working')).toEqual([
      { op: 'nak', chunkId: 'a-c1', delayMs: 0 },
      { op: 'nak', chunkId: 'b-c1', delayMs: 0 },
    ]);
    expect(s.ofType('stream.stopped').map((e) => e.reason)).toEqual(['deadline', 'deadline']);
    expect(s.children()).toEqual([]);
  });

  it('on RELEASE_STREAM lets the in-flight chunk finish, gives the rest and later deliveries back at once, then reports the stream released', async () => {
    const { store, gates } = gatedStore();
    const s = start({ maxInflight: 2 }, store);
    s.send('a', 1);
    s.send('a', 2);
    s.send('b', 1);
    await flush();
    s.handle.release('a');
    await flush();
    expect(s.port.calls).toEqual([{ op: 'nak', chunkId: 'a-c2', delayMs: 0 }]);
    s.send('a', 3);
    expect(s.port.calls.at(-1)).toEqual({ op: 'nak', chunkId: 'a-c3', delayMs: 0 });
    expect(s.ofType('stream.released')).toEqual([]);
    gates.find((g) => g.chunkId === 'a-c1')?.gate.resolve();
    await flush();
    expect(s.port.calls.filter((c) => c.op === 'ack')).toEqual([{ op: 'ack', chunkId: 'a-c1' }]);
    expect(s.ofType('stream.released')).toEqual([{ type: 'stream.released', streamId: 'a', nakked: 0 }]);
    expect(s.children()).toEqual([childIdOf('b')]);
    // The stream comes back later (its lease did): a fresh actor, which reloads the registry.
    s.send('a', 2);
    await flush();
    expect(s.children()).toEqual([childIdOf('a'), childIdOf('b')]);
    expect(s.store.count('load', 'a')).toBe(2);
    gates.find((g) => g.chunkId === 'b-c1')?.gate.resolve();
    await flush();
    gates.find((g) => g.chunkId === 'a-c2')?.gate.resolve();
    await s.handle.whenIdle();
    expect(s.store.tracked('a')).toEqual(['a-c1', 'a-c2']);
  });

  it('reports a stream it never had as released at once', async () => {
    const s = start();
    s.handle.release('ghost');
    await flush();
    expect(s.ofType('stream.released')).toEqual([{ type: 'stream.released', streamId: 'ghost', nakked: 0 }]);
  });

  it('gives a stream up when a write finds its lease gone: every held chunk is handed back, nothing dead-lettered', async () => {
    const s = start();
    const lost = new PaddockError('LEASE_LOST', 'write to stream a refused: its lease moved on');
    const persist = s.store.persistChunk.bind(s.store);
    s.store.persistChunk = async (input) => {
      if (input.event.chunkId === 'a-c1') throw lost;
      return persist(input);
    };
    s.send('a', 1);
    s.send('a', 2);
    await flush();
    expect(s.port.calls.filter((c) => c.op !== 'working').sort((x, y) => x.chunkId.localeCompare(y.chunkId))).toEqual([
      { op: 'nak', chunkId: 'a-c1', delayMs: 0 },
      { op: 'nak', chunkId: 'a-c2', delayMs: 0 },
    ]);
    expect(s.streamEvents.filter((e) => e.type === 'chunk.failed').map((e) => (e as { retryInMs: number | null }).retryInMs)).toEqual([null]);
    expect(s.store.tracked('a')).toEqual(['a-c1']);
    expect(s.children()).toEqual([]);
    expect(s.errors).toEqual([]);
  });

  it('stops at once on SHUTDOWN with no streams', async () => {
    const s = start();
    await s.handle.stop();
    expect(s.handle.actor.getSnapshot().status).toBe('done');
  });

  it('keeps a throwing event hook away from xstate and hands its error to onError', async () => {
    const errors: unknown[] = [];
    const handle = startSupervisor({
      effects: new FakeStore(),
      port: new RecordingPort(),
      onError: (error) => void errors.push(error),
      onStreamEvent: () => {
        throw new Error('metrics hook exploded');
      },
    });
    handle.send(makeDelivery('a', 1));
    await handle.whenIdle();
    await new Promise((resolve) => setTimeout(resolve, 5));
    // registry.loaded and chunk.processed: each hook call failed, none escaped to the process.
    expect(errors.map(String)).toEqual(['Error: metrics hook exploded', 'Error: metrics hook exploded']);
    await handle.stop();
  });

  it('naks the deliveries of a stream that crashes while draining instead of restarting it', async () => {
    const { store, gates } = gatedStore();
    const port = new RecordingPort();
    port.onAck = () => {
      throw new Error('ack exploded');
    };
    const s = start({}, store, port);
    s.send('a', 1);
    await flush();
    const stopped = s.handle.stop();
    gates[0]?.gate.resolve();
    await stopped;
    expect(s.ofType('stream.crashed')).toMatchObject([{ streamId: 'a', restartInMs: null }]);
    expect(s.port.calls.at(-1)).toEqual({ op: 'nak', chunkId: 'a-c1', delayMs: 0 });
    expect(s.errors).toEqual([]);
  });

  it('refuses bad options with a CONFIG_INVALID error naming the option', () => {
    expect(() => start({ maxInflight: 0 })).toThrow(/maxInflight/);
    try {
      start({ stream: { maxBuffer: 1.5 } });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PaddockError);
      expect((error as PaddockError).code).toBe('CONFIG_INVALID');
      expect((error as PaddockError).message).toMatch(/stream\.maxBuffer/);
    }
  });

  it("hands the supervisor's own errors to the error observer instead of throwing", async () => {
    const port = new RecordingPort();
    port.nak = () => {
      throw new Error('nak exploded');
    };
    const { store } = gatedStore();
    const s2 = start({}, store, port);
    s2.send('a', 1);
    await flush();
    const stopped = s2.handle.stop().catch((error: unknown) => error);
    s2.send('b', 1); // draining: nak throws inside the supervisor's own action
    expect(await stopped).toBeInstanceOf(Error);
    expect(s2.errors).toHaveLength(1);
    expect(String(s2.errors[0])).toMatch(/nak exploded/);
  });
});
