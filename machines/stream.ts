/**
 * The `stream` machine: one actor per camera stream, processing its chunks one at a time, in
 * `sequence` order, against the stream's registry kept in context between chunks.
 *
 *   idle ─► loadingRegistry ─► idle ─► checking ─► awaitingSlot ─► tracking ─► persisting ─► idle (ack)
 *              ▲                           │  └─ already done: ack + skip ─► idle
 *              └────── version moved ──────┘
 *   a stage fails ─► failing ─► retrying (backoff) ─► that stage again
 *                            └─ out of attempts ─► dead-letter the chunk (track, persist)
 *                                                  or nak all held (load, check) ─► idle
 *   STOP ─► stopped (final); in tracking/persisting the chunk finishes first.
 *   a stage fails because another replica owns the stream now (LEASE_LOST) ─► nak all held ─► stopped
 *
 * Effects, all injected (see `provideStreamEffects`; defaults reject/throw "not provided"):
 *   actors  loadRegistry({streamId}) → {registry, lastSequence}      (on start and when the version moved)
 *           checkChunk: isChunkDone({streamId, chunkId}) → boolean   (idempotency log), then
 *                       registryVersionMoved({streamId, registry}) → boolean (before every chunk)
 *           processChunk({streamId, event, registry, signal}) → O    (decode + detect + embed + track)
 *           persistChunk({streamId, event, registry, outcome}) → {registry, …} (all of it is emitted)
 *   actions ack / nak / deadLetter ({delivery, …})                   (DeliveryPort)
 *           requestSlot / releaseSlot / reportSettled({delivery})    (parent protocol, below)
 *
 * Parent protocol (default: sendParent; a parent must exist or these actions be provided):
 *   → STREAM.REQUEST_SLOT {streamId}   before tracking; the parent answers SLOT_GRANTED
 *   → STREAM.RELEASE_SLOT {streamId}   on leaving tracking (success, error, stop) or giving up a request
 *   → STREAM.SETTLED {streamId, delivery}  each delivery acked, nak'd or dead-lettered
 *   ← CHUNK {delivery}, SLOT_GRANTED, STOP
 *
 * Ordering: the next expected sequence comes from the registry load (`lastSequence + 1`) or,
 * without one, from the lowest sequence buffered when the first chunk is picked. Early
 * arrivals wait in the buffer; when it holds `maxBuffer` deliveries, or after `gapTimeoutMs`,
 * the lowest buffered one goes next and `chunk.gap` is emitted. A chunk below the expected
 * sequence is checked against the chunk log: done → ack + `chunk.skipped`; otherwise it is
 * processed (`late: true`) without moving the expected sequence back.
 *
 * Failures: each chunk has `maxAttempts` attempts over all stages, retried with exponential
 * backoff from the failed stage. A chunk whose tracking or persisting keeps failing is
 * dead-lettered and the stream goes on. When loading the registry or checking the chunk log
 * keeps failing (infrastructure, not the chunk), every held delivery is nak'd with
 * `unavailableNakDelayMs` and the registry is reloaded on the next chunk.
 *
 * In-progress acks (`working()`) for held deliveries are the supervisor's: it knows every
 * unsettled delivery of every stream and beats them all on one timer (a timer per stream
 * would make every actor stop scan thousands of scheduled events; see supervisor.ts).
 */
import { assign, emit, enqueueActions, fromPromise, sendParent, setup } from 'xstate';
import { PaddockError } from '../src/errors/index.ts';
import { backoffMs, resolveStreamOptions } from './options.ts';
import type { StreamOptions } from './options.ts';
import { isInfrastructureFailure, isOwnershipLost, isPermanentFailure } from './types.ts';
import type { ChunkDelivery, ChunkEvent, DeliveryPort, FailureStage, LoadedRegistry, StreamEffects, StreamEmitted } from './types.ts';

export interface StreamInput {
  streamId: string;
  options?: Partial<StreamOptions>;
}

export interface StreamContext {
  streamId: string;
  options: StreamOptions;
  registry: unknown;
  registryLoaded: boolean;
  reloadReason: 'start' | 'version-moved';
  /** The next sequence to process, null until known. */
  expectedSequence: number | null;
  /** Held deliveries not started yet, sorted by sequence. */
  buffer: ChunkDelivery[];
  /** The delivery being worked on. */
  current: ChunkDelivery | null;
  currentIsLate: boolean;
  outcome: unknown;
  /** What persistChunk returned for the current chunk (emitted with chunk.processed). */
  persisted: unknown;
  /** Failed attempts of the current work item (chunk, or registry load). */
  attempts: number;
  failedStage: FailureStage | null;
  lastError: unknown;
  stopRequested: boolean;
}

interface CheckInput {
  streamId: string;
  chunkId: string;
  registry: unknown;
}

interface ChunkCheck {
  done: boolean;
  versionMoved: boolean;
  /** Attempts at this chunk that a crash cut short (started, never finished in order). */
  interrupted: number;
}

export type StreamEvent =
  | { type: 'CHUNK'; delivery: ChunkDelivery }
  | { type: 'SLOT_GRANTED' }
  | { type: 'STOP' };

/** Messages a stream actor sends its parent. */
export type StreamToParentEvent =
  | { type: 'STREAM.REQUEST_SLOT'; streamId: string }
  | { type: 'STREAM.RELEASE_SLOT'; streamId: string }
  | { type: 'STREAM.SETTLED'; streamId: string; delivery: ChunkDelivery };

function notProvided(name: string): never {
  throw new PaddockError('INTERNAL', `stream machine effect "${name}" was not provided`);
}

function insertBySequence(buffer: ChunkDelivery[], delivery: ChunkDelivery): ChunkDelivery[] {
  const next = buffer.slice();
  let index = next.length;
  while (index > 0 && (next[index - 1] as ChunkDelivery).event.sequence > delivery.event.sequence) index -= 1;
  next.splice(index, 0, delivery);
  return next;
}

/**
 * Composite actions in `setup` name the primitive ones (ack, nak, …) so that providing the
 * primitives is enough; xstate cannot type a setup's actions against themselves, hence the cast.
 */
type NamedActionEnqueuer = (action: { type: string; params?: Record<string, unknown> }) => void;
const named = (enqueue: unknown): NamedActionEnqueuer => enqueue as NamedActionEnqueuer;

/** The per-chunk context fields when no chunk is being worked on. */
const NO_CURRENT_CHUNK = {
  current: null,
  currentIsLate: false,
  outcome: null,
  persisted: null,
  attempts: 0,
  failedStage: null,
  lastError: null,
} as const;

/** The error's message, after its stable code when it has one (`VIDEO_MISSING: …`). */
function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'string' && /^[A-Z][A-Z_]+$/.test(code) ? `${code}: ${message}` : message;
}

export const streamMachine = setup({
  types: {
    context: {} as StreamContext,
    events: {} as StreamEvent,
    input: {} as StreamInput,
    output: {} as { streamId: string },
    emitted: {} as StreamEmitted,
  },
  actors: {
    loadRegistry: fromPromise<LoadedRegistry<unknown>, { streamId: string }>(async () => notProvided('loadRegistry')),
    /** isChunkDone, then (when not done) registryVersionMoved: one actor for both pre-flight queries. */
    checkChunk: fromPromise<ChunkCheck, CheckInput>(async () => notProvided('checkChunk')),
    processChunk: fromPromise<unknown, { streamId: string; event: ChunkEvent; registry: unknown }>(async () =>
      notProvided('processChunk'),
    ),
    persistChunk: fromPromise<{ registry: unknown }, { streamId: string; event: ChunkEvent; registry: unknown; outcome: unknown }>(
      async () => notProvided('persistChunk'),
    ),
  },
  actions: {
    ack: (_, _params: { delivery: ChunkDelivery }) => notProvided('ack'),
    nak: (_, _params: { delivery: ChunkDelivery; delayMs: number }) => notProvided('nak'),
    deadLetter: (_, _params: { delivery: ChunkDelivery; reason: string }) => notProvided('deadLetter'),
    requestSlot: sendParent(({ context }: { context: StreamContext }) => ({ type: 'STREAM.REQUEST_SLOT', streamId: context.streamId })),
    releaseSlot: sendParent(({ context }: { context: StreamContext }) => ({ type: 'STREAM.RELEASE_SLOT', streamId: context.streamId })),
    reportSettled: sendParent(({ context }: { context: StreamContext }, params: { delivery: ChunkDelivery }) => ({
      type: 'STREAM.SETTLED',
      streamId: context.streamId,
      delivery: params.delivery,
    })),
    // Composite actions: they only name the primitive ones above, so providing those is enough.
    takeHead: assign(({ context }) => {
      const [head, ...rest] = context.buffer as [ChunkDelivery, ...ChunkDelivery[]];
      const expected = context.expectedSequence ?? head.event.sequence;
      return { current: head, buffer: rest, expectedSequence: expected, currentIsLate: head.event.sequence < expected };
    }),
    emitGap: emit(({ context }: { context: StreamContext }, params: { reason: 'buffer-full' | 'timeout' }) => ({
      type: 'chunk.gap' as const,
      streamId: context.streamId,
      expectedSequence: context.expectedSequence ?? context.options.firstSequence,
      resumedAt: (context.buffer[0] as ChunkDelivery).event.sequence,
      reason: params.reason,
    })),
    storeLoadedRegistry: enqueueActions(({ context, event, enqueue }) => {
      const loaded = (event as unknown as { output: LoadedRegistry<unknown> }).output;
      const fromLog = loaded.lastSequence === null ? null : loaded.lastSequence + 1;
      enqueue.assign({
        registry: loaded.registry,
        registryLoaded: true,
        attempts: 0,
        failedStage: null,
        expectedSequence:
          context.expectedSequence === null ? fromLog : fromLog === null ? context.expectedSequence : Math.max(fromLog, context.expectedSequence),
      });
      enqueue.emit({ type: 'registry.loaded', streamId: context.streamId, reason: context.reloadReason, lastSequence: loaded.lastSequence });
    }),
    /** Finishes the current delivery one way or another and forgets it. */
    settleCurrent: enqueueActions(
      ({ context, enqueue }, params: { how: 'ack' | 'skip' | 'dead-letter'; reason?: string }) => {
        const delivery = context.current as ChunkDelivery;
        const { streamId } = context;
        if (params.how === 'dead-letter') {
          const reason = params.reason ?? 'unknown';
          named(enqueue)({ type: 'deadLetter', params: { delivery, reason } });
          enqueue.emit({ type: 'chunk.deadLettered', streamId, delivery, reason });
        } else {
          named(enqueue)({ type: 'ack', params: { delivery } });
          if (params.how === 'ack') {
            enqueue.emit({
              type: 'chunk.processed',
              streamId,
              delivery,
              outcome: context.outcome,
              persisted: context.persisted,
              attempts: context.attempts + 1,
              late: context.currentIsLate,
            });
          } else {
            enqueue.emit({ type: 'chunk.skipped', streamId, delivery, reason: 'duplicate' });
          }
        }
        named(enqueue)({ type: 'reportSettled', params: { delivery } });
        const expected = context.expectedSequence ?? delivery.event.sequence;
        enqueue.assign({ ...NO_CURRENT_CHUNK, expectedSequence: Math.max(expected, delivery.event.sequence + 1) });
      },
    ),
    /** Gives every held delivery back (on STOP). */
    nakHeld: enqueueActions(({ context, enqueue }) => {
      const held = context.current === null ? context.buffer : [context.current, ...context.buffer];
      for (const delivery of held) {
        named(enqueue)({ type: 'nak', params: { delivery, delayMs: context.options.stopNakDelayMs } });
        named(enqueue)({ type: 'reportSettled', params: { delivery } });
      }
      enqueue.assign({ current: null, buffer: [], outcome: null, stopRequested: true });
    }),
    /** STOP while a chunk is in flight: give the rest back now, finish the current one. */
    requestStop: enqueueActions(({ context, enqueue }) => {
      for (const delivery of context.buffer) {
        named(enqueue)({ type: 'nak', params: { delivery, delayMs: context.options.stopNakDelayMs } });
        named(enqueue)({ type: 'reportSettled', params: { delivery } });
      }
      enqueue.assign({ buffer: [], stopRequested: true });
    }),
    /** The registry or the chunk log stays unreachable: give everything back for later. */
    giveUpHeld: enqueueActions(({ context, enqueue }) => {
      const held = context.current === null ? context.buffer : [context.current, ...context.buffer];
      for (const delivery of held) {
        named(enqueue)({ type: 'nak', params: { delivery, delayMs: context.options.unavailableNakDelayMs } });
        named(enqueue)({ type: 'reportSettled', params: { delivery } });
      }
      enqueue.emit({
        type: 'registry.unavailable',
        streamId: context.streamId,
        stage: context.failedStage ?? 'load',
        error: context.lastError,
        nakked: held.length,
      });
      enqueue.assign({
        ...NO_CURRENT_CHUNK,
        buffer: [],
        registryLoaded: context.failedStage === 'load' ? false : context.registryLoaded,
      });
    }),
    /** On an invoked effect's error event (not in StreamEvent, hence the cast). */
    recordFailure: assign(({ context, event }, params: { stage: FailureStage }) => ({
      failedStage: params.stage,
      lastError: (event as unknown as { error: unknown }).error,
      attempts: context.attempts + 1,
    })),
    emitFailed: emit(({ context }: { context: StreamContext }, params: { final: boolean }) => ({
      type: 'chunk.failed' as const,
      streamId: context.streamId,
      delivery: context.current,
      stage: context.failedStage ?? 'load',
      error: context.lastError,
      attempt: context.attempts,
      retryInMs: params.final ? null : backoffMs(context.attempts, context.options.retryBaseMs, context.options.retryMaxMs),
    })),
  },
  guards: {
    needsRegistry: ({ context }) => !context.registryLoaded && context.buffer.length > 0,
    headIsDue: ({ context }) => {
      const head = context.buffer[0];
      return head !== undefined && head.event.sequence <= (context.expectedSequence ?? context.options.firstSequence);
    },
    bufferFull: ({ context }) => context.buffer.length >= context.options.maxBuffer,
    hasBuffered: ({ context }) => context.buffer.length > 0,
    hasCurrent: ({ context }) => context.current !== null,
    stopRequested: ({ context }) => context.stopRequested,
    attemptsLeft: ({ context }) => context.attempts < context.options.maxAttempts && !isPermanentFailure(context.lastError),
    // Never the chunk's fault: the registry cannot be read or written, or an effect says so.
    infrastructureFailure: ({ context }) =>
      context.failedStage === 'load' || context.failedStage === 'check' || context.failedStage === 'persist' || isInfrastructureFailure(context.lastError),
    retryStageIs: ({ context }, params: { stage: FailureStage }) => context.failedStage === params.stage,
    ownershipLost: ({ context }) => isOwnershipLost(context.lastError),
  },
  delays: {
    retryDelay: ({ context }) => backoffMs(context.attempts, context.options.retryBaseMs, context.options.retryMaxMs),
    gapTimeout: ({ context }) => context.options.gapTimeoutMs,
  },
}).createMachine({
  id: 'stream',
  context: ({ input }) => ({
    streamId: input.streamId,
    options: resolveStreamOptions(input.options),
    registry: null,
    registryLoaded: false,
    reloadReason: 'start',
    expectedSequence: null,
    buffer: [],
    ...NO_CURRENT_CHUNK,
    stopRequested: false,
  }),
  output: ({ context }) => ({ streamId: context.streamId }),
  on: {
    CHUNK: {
      actions: enqueueActions(({ context, event, enqueue }) => {
        const { sequence } = event.delivery.event;
        if (!Number.isSafeInteger(sequence) || sequence < 0) {
          const reason = `invalid sequence ${String(sequence)}`;
          enqueue({ type: 'deadLetter', params: { delivery: event.delivery, reason } });
          enqueue.emit({ type: 'chunk.deadLettered', streamId: context.streamId, delivery: event.delivery, reason });
          enqueue({ type: 'reportSettled', params: { delivery: event.delivery } });
          return;
        }
        if (context.stopRequested) {
          enqueue({ type: 'nak', params: { delivery: event.delivery, delayMs: context.options.stopNakDelayMs } });
          enqueue({ type: 'reportSettled', params: { delivery: event.delivery } });
          return;
        }
        enqueue.assign({ buffer: insertBySequence(context.buffer, event.delivery) });
      }),
    },
    // A grant that arrives when nothing waits for it (after a stop or a restart) goes back.
    SLOT_GRANTED: { actions: 'releaseSlot' },
    STOP: { target: '#stream.stopped', actions: 'nakHeld' },
  },
  initial: 'idle',
  states: {
    idle: {
      always: [
        { guard: 'needsRegistry', target: 'loadingRegistry' },
        { guard: 'headIsDue', target: 'checking', actions: 'takeHead' },
        { guard: 'bufferFull', target: 'checking', actions: [{ type: 'emitGap', params: { reason: 'buffer-full' } }, 'takeHead'] },
        { guard: 'hasBuffered', target: 'waitingForGap' },
      ],
    },
    waitingForGap: {
      always: [
        { guard: 'headIsDue', target: 'checking', actions: 'takeHead' },
        { guard: 'bufferFull', target: 'checking', actions: [{ type: 'emitGap', params: { reason: 'buffer-full' } }, 'takeHead'] },
      ],
      after: {
        gapTimeout: { target: 'checking', actions: [{ type: 'emitGap', params: { reason: 'timeout' } }, 'takeHead'] },
      },
    },
    loadingRegistry: {
      invoke: {
        src: 'loadRegistry',
        input: ({ context }) => ({ streamId: context.streamId }),
        onDone: [
          { guard: 'hasCurrent', target: 'awaitingSlot', actions: 'storeLoadedRegistry' },
          { target: 'idle', actions: 'storeLoadedRegistry' },
        ],
        onError: { target: 'failing', actions: { type: 'recordFailure', params: { stage: 'load' } } },
      },
    },
    checking: {
      invoke: {
        src: 'checkChunk',
        input: ({ context }) => ({
          streamId: context.streamId,
          chunkId: (context.current as ChunkDelivery).event.chunkId,
          registry: context.registry,
        }),
        onDone: [
          { guard: ({ event }) => event.output.done, target: 'idle', actions: { type: 'settleCurrent', params: { how: 'skip' } } },
          {
            // A chunk during which the process died this often is likely what kills it. Redeliveries
            // after restarts, shutdowns and outages do not count: only attempts a crash cut short.
            guard: ({ context, event }) => event.output.interrupted >= context.options.maxDeliveries,
            target: 'idle',
            actions: enqueueActions(({ context, event, enqueue }) => {
              enqueue({
                type: 'settleCurrent',
                params: { how: 'dead-letter', reason: `processing was cut short ${event.output.interrupted} times by the process dying (limit ${context.options.maxDeliveries})` },
              });
            }),
          },
          {
            guard: ({ event }) => event.output.versionMoved,
            target: 'loadingRegistry',
            actions: assign({ registryLoaded: false, reloadReason: 'version-moved' }),
          },
          { target: 'awaitingSlot' },
        ],
        onError: { target: 'failing', actions: { type: 'recordFailure', params: { stage: 'check' } } },
      },
    },
    awaitingSlot: {
      entry: 'requestSlot',
      on: {
        SLOT_GRANTED: { target: 'tracking' },
        STOP: { target: '#stream.stopped', actions: ['releaseSlot', 'nakHeld'] },
      },
    },
    tracking: {
      exit: 'releaseSlot',
      invoke: {
        src: 'processChunk',
        input: ({ context }) => ({
          streamId: context.streamId,
          event: (context.current as ChunkDelivery).event,
          registry: context.registry,
        }),
        onDone: { target: 'persisting', actions: assign({ outcome: ({ event }) => event.output }) },
        onError: { target: 'failing', actions: { type: 'recordFailure', params: { stage: 'track' } } },
      },
      on: { STOP: { actions: 'requestStop' } },
    },
    persisting: {
      invoke: {
        src: 'persistChunk',
        input: ({ context }) => ({
          streamId: context.streamId,
          event: (context.current as ChunkDelivery).event,
          registry: context.registry,
          outcome: context.outcome,
        }),
        onDone: [
          {
            guard: 'stopRequested',
            target: '#stream.stopped',
            actions: [assign({ registry: ({ event }) => event.output.registry, persisted: ({ event }) => event.output }), { type: 'settleCurrent', params: { how: 'ack' } }],
          },
          {
            target: 'idle',
            actions: [assign({ registry: ({ event }) => event.output.registry, persisted: ({ event }) => event.output }), { type: 'settleCurrent', params: { how: 'ack' } }],
          },
        ],
        onError: { target: 'failing', actions: { type: 'recordFailure', params: { stage: 'persist' } } },
      },
      on: { STOP: { actions: 'requestStop' } },
    },
    /** Transient: decides what a failure leads to. */
    failing: {
      always: [
        // The new owner takes the chunks (its writes win; ours are fenced): give them back now.
        { guard: 'ownershipLost', target: '#stream.stopped', actions: [{ type: 'emitFailed', params: { final: true } }, 'nakHeld'] },
        { guard: 'stopRequested', target: '#stream.stopped', actions: [{ type: 'emitFailed', params: { final: true } }, 'nakHeld'] },
        { guard: 'attemptsLeft', target: 'retrying', actions: { type: 'emitFailed', params: { final: false } } },
        {
          guard: 'infrastructureFailure',
          target: 'idle',
          actions: [{ type: 'emitFailed', params: { final: true } }, 'giveUpHeld'],
        },
        {
          target: 'idle',
          actions: [
            { type: 'emitFailed', params: { final: true } },
            enqueueActions(({ context, enqueue }) => {
              const reason = isPermanentFailure(context.lastError)
                ? `${context.failedStage ?? 'unknown'} failed permanently: ${describeError(context.lastError)}`
                : `${context.failedStage ?? 'unknown'} failed ${context.attempts} times: ${describeError(context.lastError)}`;
              enqueue({ type: 'settleCurrent', params: { how: 'dead-letter', reason } });
            }),
          ],
        },
      ],
    },
    retrying: {
      after: {
        retryDelay: [
          { guard: { type: 'retryStageIs', params: { stage: 'load' } }, target: 'loadingRegistry' },
          { guard: { type: 'retryStageIs', params: { stage: 'check' } }, target: 'checking' },
          { guard: { type: 'retryStageIs', params: { stage: 'track' } }, target: 'awaitingSlot' },
          { target: 'persisting' },
        ],
      },
    },
    stopped: { type: 'final' },
  },
});

/** The stream machine with real effects: the one place the daemon plugs I/O into it. */
export function provideStreamEffects<R, O>(effects: StreamEffects<R, O>, port: DeliveryPort) {
  return streamMachine.provide({
    actors: {
      loadRegistry: fromPromise<LoadedRegistry<unknown>, { streamId: string }>(({ input }) => effects.loadRegistry(input)),
      checkChunk: fromPromise<ChunkCheck, CheckInput>(async ({ input }) => {
        if (await effects.isChunkDone({ streamId: input.streamId, chunkId: input.chunkId })) return { done: true, versionMoved: false, interrupted: 0 };
        const [versionMoved, interrupted] = await Promise.all([
          effects.registryVersionMoved({ streamId: input.streamId, registry: input.registry as R }),
          effects.interruptedAttempts({ streamId: input.streamId, chunkId: input.chunkId }),
        ]);
        return { done: false, versionMoved, interrupted };
      }),
      processChunk: fromPromise<unknown, { streamId: string; event: ChunkEvent; registry: unknown }>(({ input, signal }) =>
        effects.processChunk({ streamId: input.streamId, event: input.event, registry: input.registry as R, signal }),
      ),
      persistChunk: fromPromise<{ registry: unknown }, { streamId: string; event: ChunkEvent; registry: unknown; outcome: unknown }>(
        ({ input }) =>
          effects.persistChunk({ streamId: input.streamId, event: input.event, registry: input.registry as R, outcome: input.outcome as O }),
      ),
    },
    actions: {
      ack: (_, { delivery }) => port.ack(delivery),
      nak: (_, { delivery, delayMs }) => port.nak(delivery, delayMs),
      deadLetter: (_, { delivery, reason }) => port.deadLetter(delivery, reason),
    },
  });
}

export type StreamLogic = typeof streamMachine;

/** Where a stream actor is, as one label (the `state` of the `paddock_actors` gauge). */
export type StreamStateLabel =
  | 'idle'
  | 'waiting_for_gap'
  | 'loading_registry'
  | 'checking'
  | 'awaiting_slot'
  | 'tracking'
  | 'persisting'
  | 'retrying'
  | 'stopped';

const LABELS: Record<string, StreamStateLabel> = {
  idle: 'idle',
  waitingForGap: 'waiting_for_gap',
  loadingRegistry: 'loading_registry',
  checking: 'checking',
  awaitingSlot: 'awaiting_slot',
  tracking: 'tracking',
  persisting: 'persisting',
  failing: 'retrying',
  retrying: 'retrying',
};

export function streamStateLabel(snapshot: { value: unknown; status: string }): StreamStateLabel {
  if (snapshot.status !== 'active') return 'stopped';
  return (typeof snapshot.value === 'string' && LABELS[snapshot.value]) || 'stopped';
}
