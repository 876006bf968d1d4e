/**
 * Fake effects for the machine tests: an in-memory registry with a version counter, a chunk log,
 * failure injection per stage, and a delivery port that records every call in order.
 */
import type { SimulatedClock } from 'xstate';
import type { ChunkDelivery, ChunkEvent, DeliveryPort, LoadedRegistry, StreamEffects } from '../../machines/types.ts';

export interface FakeRegistry {
  streamId: string;
  version: number;
}

export interface FakeOutcome {
  chunkId: string;
}

export type Stage = 'load' | 'check' | 'version' | 'track' | 'persist';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export function makeDelivery(streamId: string, sequence: number, deliveryCount = 1): ChunkDelivery {
  const event: ChunkEvent = {
    streamId,
    chunkId: `${streamId}-c${sequence}`,
    sequence,
    uri: `file:///chunks/${streamId}/${sequence}.mp4`,
    startTime: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence * 10)),
    durationS: 10,
  };
  return { event, deliveryCount, handle: { id: `${streamId}/${sequence}/${deliveryCount}` } };
}

export class FakeStore implements StreamEffects<FakeRegistry, FakeOutcome> {
  readonly versions = new Map<string, number>();
  readonly chunkLog = new Map<string, Set<string>>();
  readonly lastSequence = new Map<string, number>();
  readonly calls: Array<{ stage: Stage; streamId: string; chunkId?: string }> = [];
  /** Calls of a stage to fail next: a count, or Infinity. */
  readonly failures = new Map<Stage, number>();
  /** When set, processChunk waits on what it returns. */
  trackGate: ((event: ChunkEvent) => Promise<void>) | null = null;
  /** Thrown by processChunk synchronously-in-spirit, for crash tests: replaced by a normal rejection when null. */
  private fail(stage: Stage): void {
    const left = this.failures.get(stage) ?? 0;
    if (left > 0) {
      this.failures.set(stage, left - 1);
      throw new Error(`${stage} failed (injected)`);
    }
  }

  async loadRegistry({ streamId }: { streamId: string }): Promise<LoadedRegistry<FakeRegistry>> {
    this.calls.push({ stage: 'load', streamId });
    this.fail('load');
    return { registry: { streamId, version: this.versions.get(streamId) ?? 0 }, lastSequence: this.lastSequence.get(streamId) ?? null };
  }

  async isChunkDone({ streamId, chunkId }: { streamId: string; chunkId: string }): Promise<boolean> {
    this.calls.push({ stage: 'check', streamId, chunkId });
    this.fail('check');
    return this.chunkLog.get(streamId)?.has(chunkId) ?? false;
  }

  /** Attempts cut short by a crash, per chunk ID (set by tests). */
  readonly interrupted = new Map<string, number>();

  async interruptedAttempts({ chunkId }: { streamId: string; chunkId: string }): Promise<number> {
    return this.interrupted.get(chunkId) ?? 0;
  }

  async registryVersionMoved({ streamId, registry }: { streamId: string; registry: FakeRegistry }): Promise<boolean> {
    this.calls.push({ stage: 'version', streamId });
    this.fail('version');
    return (this.versions.get(streamId) ?? 0) !== registry.version;
  }

  async processChunk({ streamId, event }: { streamId: string; event: ChunkEvent }): Promise<FakeOutcome> {
    this.calls.push({ stage: 'track', streamId, chunkId: event.chunkId });
    if (this.trackGate !== null) await this.trackGate(event);
    this.fail('track');
    return { chunkId: event.chunkId };
  }

  async persistChunk({ streamId, event, outcome }: { streamId: string; event: ChunkEvent; registry: FakeRegistry; outcome: FakeOutcome }) {
    this.calls.push({ stage: 'persist', streamId, chunkId: outcome.chunkId });
    this.fail('persist');
    const version = (this.versions.get(streamId) ?? 0) + 1;
    this.versions.set(streamId, version);
    let log = this.chunkLog.get(streamId);
    if (log === undefined) this.chunkLog.set(streamId, (log = new Set()));
    log.add(event.chunkId);
    this.lastSequence.set(streamId, event.sequence);
    return { registry: { streamId, version } };
  }

  /** Another writer changed the stored registry. */
  bumpVersion(streamId: string): void {
    this.versions.set(streamId, (this.versions.get(streamId) ?? 0) + 1);
  }

  tracked(streamId?: string): string[] {
    return this.calls.filter((c) => c.stage === 'track' && (streamId === undefined || c.streamId === streamId)).map((c) => c.chunkId as string);
  }

  count(stage: Stage, streamId?: string): number {
    return this.calls.filter((c) => c.stage === stage && (streamId === undefined || c.streamId === streamId)).length;
  }
}

export type PortCall =
  | { op: 'ack'; chunkId: string }
  | { op: 'nak'; chunkId: string; delayMs: number }
  | { op: 'working'; chunkId: string }
  | { op: 'deadLetter'; chunkId: string; reason: string };

export class RecordingPort implements DeliveryPort {
  readonly calls: PortCall[] = [];
  onAck: ((delivery: ChunkDelivery) => void) | null = null;
  ack(delivery: ChunkDelivery): void {
    this.calls.push({ op: 'ack', chunkId: delivery.event.chunkId });
    this.onAck?.(delivery);
  }
  nak(delivery: ChunkDelivery, delayMs: number): void {
    this.calls.push({ op: 'nak', chunkId: delivery.event.chunkId, delayMs });
  }
  working(delivery: ChunkDelivery): void {
    this.calls.push({ op: 'working', chunkId: delivery.event.chunkId });
  }
  deadLetter(delivery: ChunkDelivery, reason: string): void {
    this.calls.push({ op: 'deadLetter', chunkId: delivery.event.chunkId, reason });
  }
  ops(op: PortCall['op']): string[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.chunkId);
  }
}

/** Lets pending promise callbacks (fake effects resolving) run. */
export async function flush(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i += 1) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Moves simulated time forward in steps, letting effects settle in between. */
export async function advance(clock: SimulatedClock, ms: number, stepMs = Math.max(1, Math.ceil(ms / 20))): Promise<void> {
  let left = ms;
  while (left > 0) {
    const step = Math.min(stepMs, left);
    clock.increment(step);
    left -= step;
    await flush();
  }
}
