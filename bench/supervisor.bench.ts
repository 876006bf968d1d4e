/**
 * Supervisor overhead with a no-op pipeline (every effect resolves at once):
 * 1,000 streams × 10 chunk events through the real supervisor + stream machines.
 * Reports throughput, dispatch latency (delivery sent → its ack observed) under the full
 * burst and one at a time, and heap per idle stream actor.
 *
 * Run: `npx tsx bench/supervisor.bench.ts` (gc is enabled at run time; `node --expose-gc`
 * is not needed).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pathToFileURL } from 'node:url';
import { startSupervisor } from '../machines/supervisor-host.ts';
import type { SupervisorHandle } from '../machines/supervisor-host.ts';
import type { ChunkDelivery, DeliveryPort, StreamEffects } from '../machines/types.ts';
import { summarize } from './stats.ts';

const STREAMS = 1_000;
const EVENTS_PER_STREAM = 10;
const SINGLE_DISPATCHES = 1_000;

function collectGarbage(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** The bench's delivery handle: when it was sent, for the dispatch → ack latency. */
interface SentAt {
  sentAt: number;
}

function delivery(streamId: string, sequence: number): ChunkDelivery {
  return {
    event: {
      streamId,
      chunkId: `${streamId}-${sequence}`,
      sequence,
      uri: `file:///bench/${streamId}/${sequence}.mp4`,
      startTime: new Date(sequence * 10_000),
      durationS: 10,
    },
    deliveryCount: 1,
    handle: { sentAt: Number.NaN } satisfies SentAt,
  };
}

const noopEffects: StreamEffects<{ version: number }, null> = {
  loadRegistry: async () => ({ registry: { version: 0 }, lastSequence: null }),
  isChunkDone: async () => false,
  interruptedAttempts: async () => 0,
  registryVersionMoved: async () => false,
  processChunk: async () => null,
  persistChunk: async ({ registry }) => ({ registry }),
};

class TimingPort implements DeliveryPort {
  readonly latenciesMs: number[] = [];
  acked = 0;
  private waiter: { target: number; resolve: () => void } | null = null;

  ack(d: ChunkDelivery): void {
    this.latenciesMs.push(performance.now() - (d.handle as SentAt).sentAt);
    this.acked += 1;
    if (this.waiter !== null && this.acked >= this.waiter.target) {
      this.waiter.resolve();
      this.waiter = null;
    }
  }
  nak(): void {
    throw new Error('unexpected nak in the no-op bench');
  }
  working(): void {}
  deadLetter(): void {
    throw new Error('unexpected dead letter in the no-op bench');
  }
  until(target: number): Promise<void> {
    if (this.acked >= target) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { target, resolve }));
  }
}

function send(handle: SupervisorHandle, d: ChunkDelivery): void {
  (d.handle as SentAt).sentAt = performance.now();
  handle.send(d);
}

function start(port: DeliveryPort): SupervisorHandle {
  return startSupervisor({
    effects: noopEffects,
    port,
    onError: (error) => {
      throw error;
    },
  });
}

export async function run(): Promise<void> {
  const gc = collectGarbage();

  // Heap per idle actor: 1,000 streams with one processed chunk each, all idle, vs. an empty supervisor.
  {
    const port = new TimingPort();
    const handle = start(port);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let s = 0; s < STREAMS; s += 1) send(handle, delivery(`mem${s}`, 1));
    await port.until(STREAMS);
    await handle.whenIdle();
    gc();
    const after = process.memoryUsage().heapUsed;
    const counts = handle.actorCounts();
    console.log(`idle stream actors: ${counts.idle}; heap per idle actor: ${((after - before) / STREAMS / 1024).toFixed(1)} KB (target < 20 KB)`);
    const stopStart = performance.now();
    await handle.stop();
    console.log(`SHUTDOWN with ${STREAMS} idle stream actors: ${(performance.now() - stopStart).toFixed(0)} ms`);
  }

  // Throughput and dispatch latency under a burst of 1,000 streams × 10 events; the first
  // round, on its own supervisor, warms the JIT up.
  const total = STREAMS * EVENTS_PER_STREAM;
  let port = new TimingPort();
  let handle = start(port);
  for (const round of ['warm-up', 'measured']) {
    if (round === 'measured') {
      await handle.stop();
      port = new TimingPort();
      handle = start(port);
    }
    const startedAt = performance.now();
    const cpuStart = process.cpuUsage();
    for (let sequence = 1; sequence <= EVENTS_PER_STREAM; sequence += 1) {
      for (let s = 0; s < STREAMS; s += 1) send(handle, delivery(`s${s}`, sequence));
    }
    await port.until(total);
    const elapsedMs = performance.now() - startedAt;
    const cpu = process.cpuUsage(cpuStart);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    console.log(
      `${round.padEnd(8)} ${STREAMS} streams × ${EVENTS_PER_STREAM} events: ${total} in ${elapsedMs.toFixed(0)} ms = ${Math.round(
        (total / elapsedMs) * 1000,
      )} events/s (target ≥ 5,000); ${Math.round((total / cpuMs) * 1000)} events per CPU-second`,
    );
  }
  summarize('dispatch → ack, burst of 10,000 (queueing incl.)', port.latenciesMs);

  // One delivery at a time to warm actors: the supervisor's own per-event latency.
  port.latenciesMs.length = 0;
  for (let i = 0; i < SINGLE_DISPATCHES; i += 1) {
    send(handle, delivery(`s${i % STREAMS}`, EVENTS_PER_STREAM + 1 + Math.floor(i / STREAMS)));
    await port.until(total + i + 1);
  }
  summarize('dispatch → ack, one at a time (warm actor)', port.latenciesMs);
  await handle.stop();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await run();
}
