import type { Gauge } from 'prom-client';
import { PaddockError } from '../errors/index.ts';
import { OTHER_STREAM } from './names.ts';

/**
 * Keeps the `stream` label bounded: the first `limit` streams seen get a series of their own,
 * every later one is counted under `stream="other"`. A slot, once given, is kept for the life of
 * the process so that counters never jump between series.
 */
export class StreamLabels {
  readonly limit: number;
  readonly #named = new Set<string>();

  constructor(limit: number) {
    if (!Number.isInteger(limit) || limit < 0) {
      throw new PaddockError('CONFIG_INVALID', `the per-stream metrics limit must be a whole number ≥ 0 (got ${limit})`);
    }
    this.limit = limit;
  }

  /** The label value to use for this stream. A stream literally named "other" shares the overflow series. */
  label(streamId: string): string {
    if (this.#named.has(streamId)) return streamId;
    if (streamId !== OTHER_STREAM && this.#named.size < this.limit) {
      this.#named.add(streamId);
      return streamId;
    }
    return OTHER_STREAM;
  }

  hasOwnSeries(streamId: string): boolean {
    return this.#named.has(streamId);
  }
}

export type Combine = 'sum' | 'max';

/**
 * A per-stream gauge that stays correct for the overflow streams: their values are kept here and
 * `stream="other"` shows their sum (counts such as queue depth) or maximum (lag).
 */
export class PerStreamGauge<Extra extends string = never> {
  readonly #gauge: Gauge<string>;
  readonly #labels: StreamLabels;
  readonly #combine: Combine;
  /** extra-label key → (overflow stream → value) */
  readonly #overflow = new Map<string, Map<string, number>>();
  /** extra-label key → its labels, for removing a named stream's series */
  readonly #extras = new Map<string, Partial<Record<Extra, string>>>();

  constructor(gauge: Gauge<string>, labels: StreamLabels, combine: Combine) {
    this.#gauge = gauge;
    this.#labels = labels;
    this.#combine = combine;
  }

  set(streamId: string, value: number, extra: Partial<Record<Extra, string>> = {}): void {
    const key = extraKey(extra);
    if (!this.#extras.has(key)) this.#extras.set(key, extra);
    const stream = this.#labels.label(streamId);
    if (stream !== OTHER_STREAM) {
      this.#gauge.set({ ...extra, stream }, value);
      return;
    }
    let values = this.#overflow.get(key);
    if (values === undefined) {
      values = new Map();
      this.#overflow.set(key, values);
    }
    values.set(streamId, value);
    this.#gauge.set({ ...extra, stream: OTHER_STREAM }, this.#combined(values));
  }

  /** Drops a stream's values, e.g. when its actor stops; its slot in StreamLabels is kept. */
  forget(streamId: string): void {
    if (this.#labels.hasOwnSeries(streamId)) {
      for (const extra of this.#extras.values()) this.#gauge.remove({ ...extra, stream: streamId });
      return;
    }
    for (const [key, values] of this.#overflow) {
      if (!values.delete(streamId)) continue;
      const extra = this.#extras.get(key) ?? {};
      if (values.size === 0) this.#gauge.remove({ ...extra, stream: OTHER_STREAM });
      else this.#gauge.set({ ...extra, stream: OTHER_STREAM }, this.#combined(values));
    }
  }

  #combined(values: Map<string, number>): number {
    let result = this.#combine === 'sum' ? 0 : Number.NEGATIVE_INFINITY;
    for (const value of values.values()) result = this.#combine === 'sum' ? result + value : Math.max(result, value);
    return result;
  }
}

function extraKey(extra: Record<string, string | undefined>): string {
  return Object.keys(extra)
    .sort()
    .map((name) => `${name}=${extra[name] ?? ''}`)
    .join(',');
}
