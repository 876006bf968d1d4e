/**
 * Shapes and effect signatures shared by the `stream` and `supervisor` machines.
 *
 * The machines never import I/O. Everything they do to the outside world goes through the
 * effects below, which the daemon wires to PostgreSQL/Redis, ffmpeg + ONNX + tracker and
 * NATS (see `provideStreamEffects` in stream.ts and `startSupervisor` in supervisor-host.ts).
 * Registry and chunk outcome are opaque to the machines: `R` and `O` here, `unknown` inside.
 */

/** One validated chunk event, as a source (NATS or a watched folder) hands it over. */
export interface ChunkEvent {
  streamId: string;
  chunkId: string;
  /** Position of the chunk in its stream; chunks of one stream are processed in this order. */
  sequence: number;
  uri: string;
  startTime: Date;
  durationS: number;
}

/**
 * A chunk event plus what its source needs to settle it. `handle` is the source's own object
 * (a JetStream message, a file path…); the machines only pass the delivery back to the
 * `DeliveryPort`. Identity matters: the supervisor tracks unsettled deliveries by reference.
 */
export interface ChunkDelivery {
  readonly event: ChunkEvent;
  /** 1 on the first delivery; the source's redelivery counter otherwise. */
  readonly deliveryCount: number;
  readonly handle: unknown;
}

/** What `loadRegistry` returns: the registry and, when known, the last chunk it persisted. */
export interface LoadedRegistry<R> {
  registry: R;
  /** Sequence of the stream's last processed chunk (from the chunk log), or null if none. */
  lastSequence: number | null;
}

/**
 * The asynchronous effects of one stream. Each rejects on failure; the stream machine decides
 * (retry with backoff, dead-letter, nak). None of them acks or naks anything itself.
 */
export interface StreamEffects<R = unknown, O = unknown, P extends { registry: R } = { registry: R }> {
  /** Loads the stream's registry (on actor start, after a crash restart, or when its stored version moved). */
  loadRegistry(input: { streamId: string }): Promise<LoadedRegistry<R>>;
  /** Whether the chunk is already in the stream's chunk log (the idempotency check). */
  isChunkDone(input: { streamId: string; chunkId: string }): Promise<boolean>;
  /**
   * Attempts at the chunk that started and never finished in order (the process died): counted
   * durably by processChunk's implementation. Redeliveries alone (restarts, shutdowns, outages)
   * never count.
   */
  interruptedAttempts(input: { streamId: string; chunkId: string }): Promise<number>;
  /** Whether the stored registry changed since `registry` was loaded (another writer, a CLI merge…). */
  registryVersionMoved(input: { streamId: string; registry: R }): Promise<boolean>;
  /** Decode + detect + embed + track one chunk against the registry. `signal` aborts on actor stop. */
  processChunk(input: { streamId: string; event: ChunkEvent; registry: R; signal: AbortSignal }): Promise<O>;
  /**
   * Persists the outcome and the chunk-log row in one transaction; returns the persisted chunk
   * (the updated registry and the chunk result), emitted whole as `persisted` with
   * `chunk.processed` once the delivery is acked: the one channel a finished chunk leaves by.
   */
  persistChunk(input: { streamId: string; event: ChunkEvent; registry: R; outcome: O }): Promise<P>;
}

/**
 * Settling deliveries at their source. Called synchronously from machine actions: they must
 * not throw (an exception here is an actor error, i.e. a crash), and any asynchronous work
 * (publishing to the DLQ) is the implementation's to await, log and count.
 */
export interface DeliveryPort {
  /** The chunk's results are persisted (or it was a duplicate): remove it from the source. */
  ack(delivery: ChunkDelivery): void;
  /** Give the delivery back for redelivery after `delayMs`. */
  nak(delivery: ChunkDelivery, delayMs: number): void;
  /** Still working on it: extend the source's ack deadline (JetStream `working()`). */
  working(delivery: ChunkDelivery): void;
  /** Give up on it: publish to `horses.dlq.<stream_id>` with `reason` and terminate it. */
  deadLetter(delivery: ChunkDelivery, reason: string): void;
}

/**
 * An error an effect rejects with may say that retrying cannot help (a missing or invalid video,
 * a forbidden URI): `permanent: true`. The chunk is then dead-lettered after its first attempt.
 */
/** An error that is not the chunk's fault (the database, NATS…): `infrastructure: true`. Never dead-letters the chunk. */
export function isInfrastructureFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { infrastructure?: unknown }).infrastructure === true;
}

/** Another replica owns the stream now (its lease moved on): the actor gives its chunks back and stops. */
export function isOwnershipLost(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { ownershipLost?: unknown }).ownershipLost === true;
}

export function isPermanentFailure(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true;
}

/**
 * Stages a chunk can fail in; `load` and `check` (chunk log, registry version) failures are
 * infrastructure, not the chunk's fault.
 */
export type FailureStage = 'load' | 'check' | 'track' | 'persist';

/** Events the stream machine emits (`actor.on(type, …)`): hooks for metrics, logs and NATS output events. */
export type StreamEmitted =
  | {
      type: 'chunk.processed';
      streamId: string;
      delivery: ChunkDelivery;
      /** What processChunk returned. */
      outcome: unknown;
      /** What persistChunk returned (the persisted chunk: the updated registry and the chunk result). */
      persisted: unknown;
      attempts: number;
      /** Processed after a gap had been declared for its sequence. */
      late: boolean;
    }
  | { type: 'chunk.skipped'; streamId: string; delivery: ChunkDelivery; reason: 'duplicate' }
  | {
      type: 'chunk.failed';
      streamId: string;
      delivery: ChunkDelivery | null;
      stage: FailureStage;
      error: unknown;
      attempt: number;
      /** Milliseconds until the retry, or null when this failure was the last attempt. */
      retryInMs: number | null;
    }
  | { type: 'chunk.deadLettered'; streamId: string; delivery: ChunkDelivery; reason: string }
  | {
      type: 'chunk.gap';
      streamId: string;
      /** The sequence the stream waited for and never got. */
      expectedSequence: number;
      /** The buffered sequence it went on with. */
      resumedAt: number;
      reason: 'buffer-full' | 'timeout';
    }
  | { type: 'registry.loaded'; streamId: string; reason: 'start' | 'version-moved'; lastSequence: number | null }
  | { type: 'registry.unavailable'; streamId: string; stage: FailureStage; error: unknown; nakked: number };

/** Events the supervisor emits on its root actor. */
export type SupervisorEmitted =
  | { type: 'stream.spawned'; streamId: string }
  | { type: 'stream.stopped'; streamId: string; reason: 'idle' | 'shutdown' | 'deadline' | 'done' }
  /** RELEASE_STREAM done: the actor finished its in-flight chunk and every other delivery of the stream was given back. */
  | { type: 'stream.released'; streamId: string; nakked: number }
  | { type: 'stream.crashed'; streamId: string; error: unknown; restartInMs: number | null }
  | { type: 'stream.restarted'; streamId: string; redelivered: number }
  | { type: 'stream.failed'; streamId: string; until: number; nakked: number }
  | { type: 'delivery.rejected'; delivery: ChunkDelivery; reason: 'stream-failed' | 'shutting-down' | 'stream-released' };
