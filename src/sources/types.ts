import type { ChunkDelivery, DeliveryPort } from '../../machines/types.ts';

/** Why a message never reached the machines (a metric label: few values). */
export type InvalidKind = 'subject' | 'json' | 'schema' | 'stream-mismatch';

/** Counters and logs live outside the sources: they only call these. A hook that throws is logged and ignored. */
export interface SourceHooks {
  /** A message was refused before the machines saw it (and dead-lettered). */
  onInvalid?(kind: InvalidKind, reason: string): void;
  /** A valid delivery seen before (deliveryCount > 1). */
  onRedelivery?(streamId: string): void;
  /** A delivery the machines gave up on was dead-lettered. */
  onDeadLetter?(streamId: string, reason: string): void;
}

/**
 * A feed of chunk deliveries that also settles them. Iterate once; the iteration ends after
 * `stop()`. Settling (`ack`, `nak`, `deadLetter`) keeps working after `stop()` until `close()`.
 */
export interface ChunkSource extends AsyncIterable<ChunkDelivery>, DeliveryPort {
  /** Stop taking new chunks; deliveries already handed out can still be settled. */
  stop(): Promise<void>;
  /** Waits for settling work in progress (dead-letter publishes, file moves), then releases the source's resources. */
  close(): Promise<void>;
}

/** Calls a hook without letting its failure reach the caller. */
export function callHook<A extends unknown[]>(hook: ((...args: A) => void) | undefined, onError: (error: unknown) => void, ...args: A): void {
  if (hook === undefined) return;
  try {
    hook(...args);
  } catch (error) {
    onError(error);
  }
}
