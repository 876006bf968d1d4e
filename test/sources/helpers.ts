import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { TEST_NATS_URL } from '../helpers/services.ts';

/** Stream, consumer and subject names no other test file (or the daemon) uses. */
export function scratchNames(label: string) {
  const token = `t${process.pid}${Math.random().toString(36).slice(2, 8)}${label}`;
  return {
    streamName: `${token.toUpperCase()}_CHUNKS`,
    subjectPrefix: `${token}.chunks`,
    consumerName: `${token}-paddock`,
    dlqStreamName: `${token.toUpperCase()}_DLQ`,
    dlqSubjectPrefix: `${token}.dlq`,
    eventsPrefix: `${token}.events`,
  };
}

export function connectTestNats(): Promise<NatsConnection> {
  return connect({ servers: TEST_NATS_URL, name: 'paddock-test' });
}

export async function deleteStreams(nc: NatsConnection, ...names: string[]): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of names) await jsm.streams.delete(name).catch(() => false);
}

/**
 * Reads an async iterator with time limits. A read that timed out stays pending and answers
 * the next call, so no value is lost between calls.
 */
export class Puller<T> {
  private pending: Promise<IteratorResult<T>> | undefined;
  constructor(private readonly iterator: AsyncIterator<T>) {}

  static of<T>(iterable: AsyncIterable<T>): Puller<T> {
    return new Puller(iterable[Symbol.asyncIterator]());
  }

  /** The next value, 'timeout' when none arrives within `ms`, 'done' when the iteration ended. */
  async next(ms: number): Promise<T | 'timeout' | 'done'> {
    this.pending ??= this.iterator.next();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
    try {
      const result = await Promise.race([this.pending, timeout]);
      if (result === 'timeout') return result;
      this.pending = undefined;
      return result.done === true ? 'done' : result.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** The next value; fails the test when none arrives within `ms`. */
  async value(ms: number): Promise<T> {
    const result = await this.next(ms);
    if (result === 'timeout' || result === 'done') throw new Error(`expected a value, got ${result}`);
    return result;
  }
}

/** Polls `check` until it returns a value other than undefined, or fails after `ms`. */
export async function waitFor<T>(check: () => Promise<T | undefined> | T | undefined, ms = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
