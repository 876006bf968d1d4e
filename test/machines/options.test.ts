import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_STREAM_OPTIONS, resolveStreamOptions, resolveSupervisorOptions } from '../../machines/options.ts';
import { PaddockError } from '../../src/errors/index.ts';

describe('machine options', () => {
  it('fills defaults and keeps what is given', () => {
    const options = resolveSupervisorOptions({ maxInflight: 2, restart: { maxRestarts: 3 }, stream: { maxBuffer: 4 } });
    expect(options.maxInflight).toBe(2);
    expect(options.idleTimeoutMs).toBe(600_000);
    expect(options.idleSweepMs).toBe(60_000);
    expect(options.workingIntervalMs).toBe(10_000);
    expect(options.shutdownDeadlineMs).toBe(30_000);
    expect(options.restart).toMatchObject({ maxRestarts: 3, windowMs: 60_000 });
    expect(options.stream).toEqual({ ...DEFAULT_STREAM_OPTIONS, maxBuffer: 4 });
  });

  it('refuses non-integers and values below the minimum with CONFIG_INVALID naming the option', () => {
    const cases: Array<[() => unknown, RegExp]> = [
      [() => resolveStreamOptions({ maxAttempts: 0 }), /stream\.maxAttempts/],
      [() => resolveStreamOptions({ gapTimeoutMs: -1 }), /stream\.gapTimeoutMs/],
      [() => resolveSupervisorOptions({ idleSweepMs: Number.NaN }), /idleSweepMs/],
      [() => resolveSupervisorOptions({ restart: { windowMs: 1.5 } }), /restart\.windowMs/],
    ];
    for (const [resolve, name] of cases) {
      let caught: unknown;
      try {
        resolve();
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(PaddockError);
      expect((caught as PaddockError).code).toBe('CONFIG_INVALID');
      expect((caught as PaddockError).message).toMatch(name);
    }
  });

  it('doubles the backoff per attempt up to the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 1_000, 10_000))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });
});
