/**
 * Tunables of the stream and supervisor machines: `DEFAULT_*` constants resolved once into a
 * fully-filled options object, validated in one place (bad values are a CONFIG_INVALID error
 * naming the option).
 */
import { ConfigError } from '../src/errors/index.ts';

export interface StreamOptions {
  /** Attempts per chunk (all stages together) before it is dead-lettered. */
  maxAttempts: number;
  /** Backoff of the n-th retry: min(retryBaseMs × 2^(n−1), retryMaxMs). */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Early arrivals held while waiting for a missing sequence. */
  maxBuffer: number;
  /**
   * The sequence a stream with an empty chunk log starts at without waiting: a first chunk
   * numbered higher (a stream picked up mid-way, or earlier chunks still in flight) waits for
   * the gap timeout, so out-of-order first arrivals are still processed in order.
   */
  firstSequence: number;
  /** How long to wait for a missing sequence before going on with the lowest buffered one. */
  gapTimeoutMs: number;
  /** Deliveries seen this many times or more are dead-lettered without processing (poison messages). */
  maxDeliveries: number;
  /** Nak delay when the registry or the chunk log is unreachable after all attempts. */
  unavailableNakDelayMs: number;
  /** Nak delay for deliveries given back on STOP (0: let another replica take them now). */
  stopNakDelayMs: number;
}

export interface RestartPolicy {
  /** At most this many crash restarts of one stream within `windowMs`… */
  maxRestarts: number;
  windowMs: number;
  /** …each after min(backoffBaseMs × 2^(n−1), backoffMaxMs), n = restarts in the window. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Then the stream is failed this long: its deliveries are nak'd with `failedNakDelayMs`. */
  failedCooldownMs: number;
  failedNakDelayMs: number;
}

export interface SupervisorOptions {
  /** Chunks in `tracking` at once, all streams together. */
  maxInflight: number;
  /** Stream actors holding nothing for this long are stopped. */
  idleTimeoutMs: number;
  /** How often idle actors are looked for. */
  idleSweepMs: number;
  /** Period of `working()` (in-progress ack) calls for every routed, unsettled delivery. */
  workingIntervalMs: number;
  /** After SHUTDOWN, in-flight chunks get this long to finish; then they are nak'd. */
  shutdownDeadlineMs: number;
  restart: RestartPolicy;
  stream: StreamOptions;
}

export type SupervisorOptionsInput = Partial<Omit<SupervisorOptions, 'restart' | 'stream'>> & {
  restart?: Partial<RestartPolicy>;
  stream?: Partial<StreamOptions>;
};

export const DEFAULT_STREAM_OPTIONS: Readonly<StreamOptions> = Object.freeze({
  maxAttempts: 5,
  retryBaseMs: 1_000,
  retryMaxMs: 30_000,
  maxBuffer: 16,
  firstSequence: 1,
  gapTimeoutMs: 30_000,
  maxDeliveries: 10,
  unavailableNakDelayMs: 5_000,
  stopNakDelayMs: 0,
});

export const DEFAULT_RESTART_POLICY: Readonly<RestartPolicy> = Object.freeze({
  maxRestarts: 5,
  windowMs: 60_000,
  backoffBaseMs: 1_000,
  backoffMaxMs: 30_000,
  failedCooldownMs: 5 * 60_000,
  failedNakDelayMs: 30_000,
});

export const DEFAULT_MAX_INFLIGHT = 4;
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 30_000;
export const DEFAULT_WORKING_INTERVAL_MS = 10_000;

function checkInteger(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) {
    throw new ConfigError(`machine option ${name} must be an integer ≥ ${min}, got ${String(value)}`, { option: name, value });
  }
  return value;
}

function checkAll<T extends object>(prefix: string, options: T, minimums: { [K in keyof T]?: number }): T {
  for (const [key, min] of Object.entries(minimums) as [keyof T & string, number][]) {
    checkInteger(`${prefix}${key}`, options[key] as number, min);
  }
  return options;
}

export function resolveStreamOptions(input: Partial<StreamOptions> = {}): StreamOptions {
  const options = { ...DEFAULT_STREAM_OPTIONS, ...input };
  checkAll('stream.', options, {
    maxAttempts: 1,
    retryBaseMs: 0,
    retryMaxMs: 0,
    maxBuffer: 1,
    firstSequence: 0,
    gapTimeoutMs: 0,
    maxDeliveries: 1,
    unavailableNakDelayMs: 0,
    stopNakDelayMs: 0,
  });
  return options;
}

export function resolveSupervisorOptions(input: SupervisorOptionsInput = {}): SupervisorOptions {
  const idleTimeoutMs = input.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  const options: SupervisorOptions = {
    maxInflight: input.maxInflight ?? DEFAULT_MAX_INFLIGHT,
    idleTimeoutMs,
    // Sweeping at a tenth of the timeout bounds how long past the timeout an idle actor lives.
    idleSweepMs: input.idleSweepMs ?? Math.max(1_000, Math.floor(idleTimeoutMs / 10)),
    workingIntervalMs: input.workingIntervalMs ?? DEFAULT_WORKING_INTERVAL_MS,
    shutdownDeadlineMs: input.shutdownDeadlineMs ?? DEFAULT_SHUTDOWN_DEADLINE_MS,
    restart: { ...DEFAULT_RESTART_POLICY, ...input.restart },
    stream: resolveStreamOptions(input.stream),
  };
  checkAll('', options, { maxInflight: 1, idleTimeoutMs: 0, idleSweepMs: 1, workingIntervalMs: 1, shutdownDeadlineMs: 0 });
  checkAll('restart.', options.restart, {
    maxRestarts: 0,
    windowMs: 0,
    backoffBaseMs: 0,
    backoffMaxMs: 0,
    failedCooldownMs: 0,
    failedNakDelayMs: 0,
  });
  return options;
}

/** min(base × 2^(n−1), max) for the n-th retry (n ≥ 1). */
export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
