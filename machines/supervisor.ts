/**
 * The `supervisor` machine: routes chunk deliveries to one `stream` actor per stream, admits
 * chunks to tracking, stops idle actors, restarts crashed ones, and drains on SHUTDOWN.
 *
 *   running ──SHUTDOWN──► draining ──(no live streams, or deadline)──► stopped (final)
 *   HEARTBEAT every workingIntervalMs, in any state: working() for every held delivery
 *
 * Routing: CHUNK {delivery} goes to the child `stream:<streamId>`, spawned on the stream's
 * first delivery. The supervisor remembers every delivery it routed until the stream reports
 * it settled (STREAM.SETTLED): that is what it re-delivers after a crash and naks on a
 * deadline, and a stream with nothing unsettled is idle.
 *
 * Admission: at most `maxInflight` streams track a chunk at once (STREAM.REQUEST_SLOT →
 * SLOT_GRANTED, STREAM.RELEASE_SLOT), granted FIFO over streams (see SlotTable).
 *
 * In-progress acks: every `workingIntervalMs`, `working()` for every routed, unsettled
 * delivery (in flight, buffered, waiting for a slot or a restart), on one timer.
 *
 * Idle: a stream actor holding nothing for `idleTimeoutMs` is stopped (checked every
 * `idleSweepMs`); its next delivery spawns a fresh one, which reloads the registry.
 *
 * Crashes (an actor error: an effect or action throwing outside the retry path) follow the
 * restart policy, as data: a crashed stream is restarted after min(base × 2^(n−1), max) ms,
 * n = its restarts within `windowMs`, and its unsettled deliveries are re-delivered to the new
 * actor (which reloads the registry). A stream that crashed more than `maxRestarts` times in
 * `windowMs` is failed for `failedCooldownMs`: its unsettled deliveries and every delivery
 * meanwhile are nak'd with `failedNakDelayMs`, so the source redelivers them later and, past
 * its own max deliveries, dead-letters them (the stream machine also dead-letters deliveries
 * seen more than `stream.maxDeliveries` times). After the cooldown the next delivery spawns it anew.
 *
 * Release (another replica takes the stream over, src/ownership): RELEASE_STREAM {streamId}
 * sends STOP to its actor, which gives back what it has not started and finishes its in-flight
 * chunk; then every delivery of the stream still held is nak'd at once and `stream.released` is
 * emitted (the lease may be handed over). Deliveries routed to a releasing stream are nak'd.
 *
 * Shutdown: SHUTDOWN stops accepting (new deliveries are nak'd at once), sends STOP to every
 * stream (each naks what it has not started and finishes its in-flight chunk), and reaches
 * `stopped` when all streams are done, or after `shutdownDeadlineMs`, when what is still
 * unsettled is nak'd and the actors are stopped.
 *
 * Effects: the `stream` actor (provide `provideStreamEffects(...)`), and the `nak`
 * ({delivery, delayMs}) and `working` ({delivery}) actions. `startSupervisor` (supervisor-host.ts)
 * wires them all and gives the root actor its error observer.
 *
 * Cost (bench/supervisor.bench.ts): routing is O(1) per event; about 4 KB per idle stream
 * actor. Stopping a child costs O(live children) inside xstate (it copies the children
 * record), so stopping 1,000 actors at once (SHUTDOWN, or one idle sweep) takes about a second.
 */
import { cancel, enqueueActions, raise, setup } from 'xstate';
import type { ActorRefFrom, SnapshotFrom } from 'xstate';
import { PaddockError } from '../src/errors/index.ts';
import { backoffMs, resolveSupervisorOptions } from './options.ts';
import type { SupervisorOptions, SupervisorOptionsInput } from './options.ts';
import { SlotTable } from './slots.ts';
import { provideStreamEffects, streamMachine, streamStateLabel } from './stream.ts';
import type { StreamLogic, StreamStateLabel, StreamToParentEvent } from './stream.ts';
import type { ChunkDelivery, DeliveryPort, StreamEffects, SupervisorEmitted } from './types.ts';

export interface SupervisorInput {
  options?: SupervisorOptionsInput;
  /** Wall clock in ms for idle and restart bookkeeping; pass the SimulatedClock's `now` in tests. */
  now?: () => number;
}

interface StreamEntry {
  streamId: string;
  childId: string;
  alive: boolean;
  /** Routed and not yet settled, in routing order. */
  pending: Set<ChunkDelivery>;
  idleSince: number | null;
  /** Times of crash restarts within the policy window. */
  restarts: number[];
  restartScheduled: boolean;
  failedUntil: number | null;
  /** RELEASE_STREAM received: the actor finishes its chunk, then the stream is given up. */
  releasing: boolean;
}

/**
 * The stream table and slot table are updated in place (O(1) routing for thousands of
 * streams); the supervisor never needs an older snapshot's view of them.
 */
export interface SupervisorContext {
  options: SupervisorOptions;
  now: () => number;
  streams: Map<string, StreamEntry>;
  slots: SlotTable;
  live: number;
  pendingTotal: number;
  draining: boolean;
}

export type SupervisorEvent =
  | { type: 'CHUNK'; delivery: ChunkDelivery }
  | { type: 'SHUTDOWN' }
  | { type: 'RESTART_STREAM'; streamId: string }
  | { type: 'RELEASE_STREAM'; streamId: string }
  | { type: 'HEARTBEAT' }
  | StreamToParentEvent;

const CHILD_PREFIX = 'stream:';
const ERROR_PREFIX = 'xstate.error.actor.';
const DONE_PREFIX = 'xstate.done.actor.';

export const childIdOf = (streamId: string): string => `${CHILD_PREFIX}${streamId}`;

function streamIdFromActorEvent(type: string, prefix: string): string | null {
  const id = type.slice(prefix.length);
  return id.startsWith(CHILD_PREFIX) ? id.slice(CHILD_PREFIX.length) : null;
}

function newEntry(streamId: string): StreamEntry {
  return {
    streamId,
    childId: childIdOf(streamId),
    alive: false,
    pending: new Set(),
    idleSince: null,
    restarts: [],
    restartScheduled: false,
    failedUntil: null,
    releasing: false,
  };
}

type Enqueue = {
  (action: { type: 'nak'; params: { delivery: ChunkDelivery; delayMs: number } }): void;
  emit(event: SupervisorEmitted): void;
  sendTo(to: string, event: { type: string; [key: string]: unknown }): void;
  spawnChild(src: 'stream', options: { id: string; input: { streamId: string; options: SupervisorOptions['stream'] } }): void;
  stopChild(id: string): void;
  raise(event: SupervisorEvent, options: { delay: number; id: string }): void;
  cancel(id: string): void;
};

/**
 * The bookkeeping shared by several transitions, written once against a narrow enqueue type
 * (xstate cannot type a setup's actions against themselves).
 */
const book = {
  nakAll(context: SupervisorContext, enqueue: Enqueue, entry: StreamEntry, delayMs: number): number {
    const count = entry.pending.size;
    for (const delivery of entry.pending) enqueue({ type: 'nak', params: { delivery, delayMs } });
    context.pendingTotal -= count;
    entry.pending.clear();
    entry.idleSince = context.now();
    return count;
  },

  spawn(context: SupervisorContext, enqueue: Enqueue, entry: StreamEntry): void {
    enqueue.spawnChild('stream', { id: entry.childId, input: { streamId: entry.streamId, options: context.options.stream } });
    entry.alive = true;
    context.live += 1;
  },

  /** The child is gone (done, crashed or stopped by us): forget its actor and its slot. */
  bury(context: SupervisorContext, enqueue: Enqueue, entry: StreamEntry): void {
    enqueue.stopChild(entry.childId);
    if (entry.alive) context.live -= 1;
    entry.alive = false;
    const next = context.slots.release(entry.streamId);
    if (next !== null) book.grant(context, enqueue, next);
  },

  grant(context: SupervisorContext, enqueue: Enqueue, streamId: string): void {
    const entry = context.streams.get(streamId);
    if (entry?.alive === true) {
      enqueue.sendTo(entry.childId, { type: 'SLOT_GRANTED' });
      return;
    }
    // Cannot happen while dead streams release their slot; never let a slot leak if it does.
    const next = context.slots.release(streamId);
    if (next !== null) book.grant(context, enqueue, next);
  },

  redeliver(enqueue: Enqueue, entry: StreamEntry): void {
    for (const delivery of entry.pending) enqueue.sendTo(entry.childId, { type: 'CHUNK', delivery });
  },

  /** The releasing stream's actor is gone: give back what is left and forget the stream. */
  finishRelease(context: SupervisorContext, enqueue: Enqueue, entry: StreamEntry): void {
    const nakked = book.nakAll(context, enqueue, entry, 0);
    context.streams.delete(entry.streamId);
    enqueue.emit({ type: 'stream.released', streamId: entry.streamId, nakked });
  },

  forgetIfEmpty(context: SupervisorContext, entry: StreamEntry): void {
    if (!entry.alive && !entry.restartScheduled && entry.pending.size === 0 && entry.failedUntil === null) {
      context.streams.delete(entry.streamId);
    }
  },
};

const asEnqueue = (enqueue: unknown): Enqueue => enqueue as Enqueue;

export const supervisorMachine = setup({
  types: {
    context: {} as SupervisorContext,
    events: {} as SupervisorEvent,
    input: {} as SupervisorInput,
    emitted: {} as SupervisorEmitted,
  },
  actors: { stream: streamMachine as StreamLogic },
  actions: {
    nak: (_, _params: { delivery: ChunkDelivery; delayMs: number }) => {
      throw new PaddockError('INTERNAL', 'supervisor machine effect "nak" was not provided');
    },
    working: (_, _params: { delivery: ChunkDelivery }) => {
      throw new PaddockError('INTERNAL', 'supervisor machine effect "working" was not provided');
    },
    signalWorking: enqueueActions(({ context, enqueue }) => {
      const call = enqueue as unknown as (action: { type: 'working'; params: { delivery: ChunkDelivery } }) => void;
      for (const entry of context.streams.values()) {
        for (const delivery of entry.pending) call({ type: 'working', params: { delivery } });
      }
    }),
    route: enqueueActions(({ context, event, enqueue: rawEnqueue }) => {
      if (event.type !== 'CHUNK') return;
      const enqueue = asEnqueue(rawEnqueue);
      const { delivery } = event;
      const { streamId } = delivery.event;
      let entry = context.streams.get(streamId);
      if (entry === undefined) context.streams.set(streamId, (entry = newEntry(streamId)));
      if (entry.releasing) {
        enqueue({ type: 'nak', params: { delivery, delayMs: 0 } });
        enqueue.emit({ type: 'delivery.rejected', delivery, reason: 'stream-released' });
        return;
      }
      const now = context.now();
      if (entry.failedUntil !== null) {
        if (now < entry.failedUntil) {
          enqueue({ type: 'nak', params: { delivery, delayMs: context.options.restart.failedNakDelayMs } });
          enqueue.emit({ type: 'delivery.rejected', delivery, reason: 'stream-failed' });
          return;
        }
        entry.failedUntil = null;
        entry.restarts = [];
      }
      entry.pending.add(delivery);
      context.pendingTotal += 1;
      entry.idleSince = null;
      if (entry.restartScheduled) return; // delivered with the others on restart
      if (!entry.alive) {
        book.spawn(context, enqueue, entry);
        enqueue.emit({ type: 'stream.spawned', streamId });
      }
      enqueue.sendTo(entry.childId, { type: 'CHUNK', delivery });
    }),
    rejectWhileDraining: enqueueActions(({ event, enqueue: rawEnqueue }) => {
      if (event.type !== 'CHUNK') return;
      const enqueue = asEnqueue(rawEnqueue);
      enqueue({ type: 'nak', params: { delivery: event.delivery, delayMs: 0 } });
      enqueue.emit({ type: 'delivery.rejected', delivery: event.delivery, reason: 'shutting-down' });
    }),
    requestSlot: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'STREAM.REQUEST_SLOT') return;
      if (context.streams.get(event.streamId)?.alive !== true) return;
      if (context.slots.request(event.streamId)) book.grant(context, asEnqueue(enqueue), event.streamId);
    }),
    releaseSlot: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'STREAM.RELEASE_SLOT') return;
      const next = context.slots.release(event.streamId);
      if (next !== null) book.grant(context, asEnqueue(enqueue), next);
    }),
    markSettled: enqueueActions(({ context, event }) => {
      if (event.type !== 'STREAM.SETTLED') return;
      const entry = context.streams.get(event.streamId);
      if (entry === undefined || !entry.pending.delete(event.delivery)) return;
      context.pendingTotal -= 1;
      if (entry.pending.size === 0) entry.idleSince = context.now();
    }),
    handleCrash: enqueueActions(({ context, event, enqueue: rawEnqueue }) => {
      const streamId = streamIdFromActorEvent(event.type, ERROR_PREFIX);
      const entry = streamId === null ? undefined : context.streams.get(streamId);
      if (entry?.alive !== true) return;
      const enqueue = asEnqueue(rawEnqueue);
      const { error } = event as unknown as { error: unknown };
      book.bury(context, enqueue, entry);
      if (entry.releasing) {
        enqueue.emit({ type: 'stream.crashed', streamId: entry.streamId, error, restartInMs: null });
        book.finishRelease(context, enqueue, entry);
        return;
      }
      const { restart } = context.options;
      if (context.draining) {
        book.nakAll(context, enqueue, entry, 0);
        enqueue.emit({ type: 'stream.crashed', streamId: entry.streamId, error, restartInMs: null });
        book.forgetIfEmpty(context, entry);
        return;
      }
      const now = context.now();
      entry.restarts = entry.restarts.filter((at) => now - at < restart.windowMs);
      if (entry.restarts.length >= restart.maxRestarts) {
        entry.failedUntil = now + restart.failedCooldownMs;
        entry.restarts = [];
        const nakked = book.nakAll(context, enqueue, entry, restart.failedNakDelayMs);
        enqueue.emit({ type: 'stream.crashed', streamId: entry.streamId, error, restartInMs: null });
        enqueue.emit({ type: 'stream.failed', streamId: entry.streamId, until: entry.failedUntil, nakked });
        return;
      }
      entry.restarts.push(now);
      const delay = backoffMs(entry.restarts.length, restart.backoffBaseMs, restart.backoffMaxMs);
      entry.restartScheduled = true;
      enqueue.raise({ type: 'RESTART_STREAM', streamId: entry.streamId }, { delay, id: `restart:${entry.streamId}` });
      enqueue.emit({ type: 'stream.crashed', streamId: entry.streamId, error, restartInMs: delay });
    }),
    restartStream: enqueueActions(({ context, event, enqueue: rawEnqueue }) => {
      if (event.type !== 'RESTART_STREAM') return;
      const entry = context.streams.get(event.streamId);
      if (entry === undefined || !entry.restartScheduled) return;
      const enqueue = asEnqueue(rawEnqueue);
      entry.restartScheduled = false;
      book.spawn(context, enqueue, entry);
      book.redeliver(enqueue, entry);
      enqueue.emit({ type: 'stream.restarted', streamId: entry.streamId, redelivered: entry.pending.size });
    }),
    handleChildDone: enqueueActions(({ context, event, enqueue: rawEnqueue }) => {
      const streamId = streamIdFromActorEvent(event.type, DONE_PREFIX);
      const entry = streamId === null ? undefined : context.streams.get(streamId);
      if (entry?.alive !== true) return;
      const enqueue = asEnqueue(rawEnqueue);
      book.bury(context, enqueue, entry);
      enqueue.emit({ type: 'stream.stopped', streamId: entry.streamId, reason: context.draining ? 'shutdown' : 'done' });
      if (entry.releasing) {
        book.finishRelease(context, enqueue, entry);
        return;
      }
      if (entry.pending.size > 0) {
        if (context.draining) {
          book.nakAll(context, enqueue, entry, 0);
        } else {
          // Deliveries routed while it was finishing: a fresh actor takes them.
          book.spawn(context, enqueue, entry);
          book.redeliver(enqueue, entry);
          return;
        }
      }
      book.forgetIfEmpty(context, entry);
    }),
    releaseStream: enqueueActions(({ context, event, enqueue: rawEnqueue }) => {
      if (event.type !== 'RELEASE_STREAM') return;
      const enqueue = asEnqueue(rawEnqueue);
      const entry = context.streams.get(event.streamId);
      if (entry === undefined) {
        enqueue.emit({ type: 'stream.released', streamId: event.streamId, nakked: 0 });
        return;
      }
      if (entry.releasing) return;
      entry.releasing = true;
      if (entry.alive) {
        enqueue.sendTo(entry.childId, { type: 'STOP' });
        return;
      }
      if (entry.restartScheduled) {
        enqueue.cancel(`restart:${entry.streamId}`);
        entry.restartScheduled = false;
      }
      book.finishRelease(context, enqueue, entry);
    }),
    stopIdleStreams: enqueueActions(({ context, enqueue: rawEnqueue }) => {
      const enqueue = asEnqueue(rawEnqueue);
      const now = context.now();
      for (const entry of context.streams.values()) {
        if (entry.failedUntil !== null && now >= entry.failedUntil && entry.pending.size === 0) entry.failedUntil = null;
        const idle = entry.pending.size === 0 && entry.idleSince !== null && now - entry.idleSince >= context.options.idleTimeoutMs;
        if (entry.alive && idle) {
          book.bury(context, enqueue, entry);
          enqueue.emit({ type: 'stream.stopped', streamId: entry.streamId, reason: 'idle' });
        }
        book.forgetIfEmpty(context, entry);
      }
    }),
    beginDrain: enqueueActions(({ context, enqueue: rawEnqueue }) => {
      const enqueue = asEnqueue(rawEnqueue);
      context.draining = true;
      for (const entry of context.streams.values()) {
        if (entry.alive) {
          enqueue.sendTo(entry.childId, { type: 'STOP' });
        } else if (entry.restartScheduled) {
          enqueue.cancel(`restart:${entry.streamId}`);
          entry.restartScheduled = false;
          book.nakAll(context, enqueue, entry, 0);
        }
      }
    }),
    forceStopAll: enqueueActions(({ context, enqueue: rawEnqueue }) => {
      const enqueue = asEnqueue(rawEnqueue);
      for (const entry of context.streams.values()) {
        if (!entry.alive) continue;
        book.nakAll(context, enqueue, entry, 0);
        book.bury(context, enqueue, entry);
        enqueue.emit({ type: 'stream.stopped', streamId: entry.streamId, reason: 'deadline' });
      }
    }),
  },
  guards: {
    noLiveStreams: ({ context }) => context.live === 0,
  },
  delays: {
    idleSweep: ({ context }) => context.options.idleSweepMs,
    workingInterval: ({ context }) => context.options.workingIntervalMs,
    shutdownDeadline: ({ context }) => context.options.shutdownDeadlineMs,
  },
}).createMachine({
  id: 'supervisor',
  context: ({ input }) => {
    const options = resolveSupervisorOptions(input.options);
    return {
      options,
      now: input.now ?? Date.now,
      streams: new Map(),
      slots: new SlotTable(options.maxInflight),
      live: 0,
      pendingTotal: 0,
      draining: false,
    };
  },
  on: {
    'STREAM.REQUEST_SLOT': { actions: 'requestSlot' },
    'STREAM.RELEASE_SLOT': { actions: 'releaseSlot' },
    'STREAM.SETTLED': { actions: 'markSettled' },
    // Handling these keeps a child's error from becoming the supervisor's own.
    'xstate.error.actor.*': { actions: 'handleCrash' },
    'xstate.done.actor.*': { actions: 'handleChildDone' },
    HEARTBEAT: {
      actions: ['signalWorking', raise({ type: 'HEARTBEAT' }, { delay: 'workingInterval', id: 'heartbeat' })],
    },
  },
  // In-progress acks for every held delivery of every stream, on one self-rescheduling timer
  // that runs from start to the final state (draining included).
  entry: raise({ type: 'HEARTBEAT' }, { delay: 'workingInterval', id: 'heartbeat' }),
  initial: 'running',
  states: {
    running: {
      on: {
        CHUNK: { actions: 'route' },
        RESTART_STREAM: { actions: 'restartStream' },
        RELEASE_STREAM: { actions: 'releaseStream' },
        SHUTDOWN: { target: 'draining' },
      },
      initial: 'watching',
      states: {
        watching: { after: { idleSweep: { target: 'watching', reenter: true, actions: 'stopIdleStreams' } } },
      },
    },
    draining: {
      entry: 'beginDrain',
      on: { CHUNK: { actions: 'rejectWhileDraining' } },
      always: { guard: 'noLiveStreams', target: 'stopped' },
      after: { shutdownDeadline: { target: 'stopped', actions: 'forceStopAll' } },
    },
    stopped: { type: 'final', entry: cancel('heartbeat') },
  },
});

export type SupervisorActor = ActorRefFrom<typeof supervisorMachine>;
export type SupervisorSnapshot = SnapshotFrom<typeof supervisorMachine>;

/** The supervisor with real effects. */
export function provideSupervisorEffects<R, O>(effects: StreamEffects<R, O>, port: DeliveryPort) {
  return supervisorMachine.provide({
    actors: { stream: provideStreamEffects(effects, port) },
    actions: {
      nak: (_, { delivery, delayMs }) => port.nak(delivery, delayMs),
      working: (_, { delivery }) => port.working(delivery),
    },
  });
}

/** Actor counts by state, for the `paddock_actors{state}` gauge. */
export type ActorStateCounts = Record<StreamStateLabel | 'restarting' | 'failed', number>;

export function countActorsByState(snapshot: SupervisorSnapshot): ActorStateCounts {
  const counts: ActorStateCounts = {
    idle: 0,
    waiting_for_gap: 0,
    loading_registry: 0,
    checking: 0,
    awaiting_slot: 0,
    tracking: 0,
    persisting: 0,
    retrying: 0,
    stopped: 0,
    restarting: 0,
    failed: 0,
  };
  const { context } = snapshot;
  const now = context.now();
  for (const entry of context.streams.values()) {
    if (entry.restartScheduled) counts.restarting += 1;
    else if (entry.failedUntil !== null && now < entry.failedUntil) counts.failed += 1;
  }
  for (const child of Object.values(snapshot.children)) {
    if (child === undefined) continue;
    counts[streamStateLabel(child.getSnapshot() as { value: unknown; status: string })] += 1;
  }
  return counts;
}
