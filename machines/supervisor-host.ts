/**
 * The supervisor's imperative host: starts the supervisor machine (supervisor.ts) as a root
 * actor with real effects and its error observer, hooks the event callbacks, and hands back a
 * small handle (send, stop, whenIdle, actor counts) for the daemon, the CLI and the tests.
 */
import { createActor } from 'xstate';
import type { ActorOptions } from 'xstate';
import { resolveSupervisorOptions } from './options.ts';
import type { SupervisorOptionsInput } from './options.ts';
import { countActorsByState, provideSupervisorEffects, type supervisorMachine } from './supervisor.ts';
import type { ActorStateCounts, SupervisorActor, SupervisorSnapshot } from './supervisor.ts';
import type { ChunkDelivery, DeliveryPort, StreamEffects, StreamEmitted, SupervisorEmitted } from './types.ts';

/** xstate's scheduler clock (not exported by name). */
type Clock = NonNullable<ActorOptions<typeof supervisorMachine>['clock']>;

export interface StartSupervisorOptions<R, O> {
  effects: StreamEffects<R, O>;
  port: DeliveryPort;
  options?: SupervisorOptionsInput;
  /** An xstate clock (SimulatedClock in tests); its `now()` is used too when it has one. */
  clock?: Clock & { now?: () => number };
  /**
   * The root actor's error observer (an unobserved actor error would be rethrown and crash the
   * process); also gets what the event hooks below throw.
   */
  onError: (error: unknown) => void;
  onStreamEvent?: (event: StreamEmitted) => void;
  onSupervisorEvent?: (event: SupervisorEmitted) => void;
}

export interface SupervisorHandle {
  actor: SupervisorActor;
  /** Routes one delivery (nak'd at once while shutting down). */
  send(delivery: ChunkDelivery): void;
  /**
   * Gives the stream up (another replica takes it over): its in-flight chunk finishes, the rest
   * is nak'd, then `stream.released` is emitted.
   */
  release(streamId: string): void;
  /** SHUTDOWN, resolved when the supervisor reached its final state. */
  stop(): Promise<void>;
  /** Resolves when every routed delivery is settled (acked, nak'd or dead-lettered); rejects if the supervisor fails. */
  whenIdle(): Promise<void>;
  actorCounts(): ActorStateCounts;
}

/**
 * Starts the supervisor as a root actor with its error observer, and hooks `onStreamEvent` to
 * every stream actor it spawns (stream events are emitted by the children, not the root).
 */
export function startSupervisor<R, O>(start: StartSupervisorOptions<R, O>): SupervisorHandle {
  const options = resolveSupervisorOptions(start.options); // bad options fail here, not inside the actor
  const clock = start.clock;
  const now = clock?.now === undefined ? Date.now : () => (clock.now as () => number)();
  const logic = provideSupervisorEffects(start.effects, start.port);
  const actor = createActor(logic, { input: { options, now }, ...(clock === undefined ? {} : { clock }) });

  const hooked = new WeakSet<object>();
  let lastChildren: SupervisorSnapshot['children'] | null = null;
  let failure: { error: unknown } | null = null;
  const idleWaiters = new Set<{ resolve: () => void; reject: (error: unknown) => void }>();
  const doneWaiters = new Set<{ resolve: () => void; reject: (error: unknown) => void }>();

  // xstate reports a throwing listener as an unhandled error (rethrown on a timer): keep hook
  // failures out of it.
  const guarded = <E>(hook: ((event: E) => void) | undefined) =>
    hook === undefined
      ? undefined
      : (event: E) => {
          try {
            hook(event);
          } catch (error) {
            start.onError(error);
          }
        };
  const onStreamEvent = guarded(start.onStreamEvent);
  const onSupervisorEvent = guarded(start.onSupervisorEvent);
  if (onSupervisorEvent !== undefined) actor.on('*', onSupervisorEvent);
  actor.subscribe({
    next: (snapshot) => {
      if (onStreamEvent !== undefined && snapshot.children !== lastChildren) {
        lastChildren = snapshot.children;
        for (const child of Object.values(snapshot.children)) {
          if (child === undefined || hooked.has(child)) continue;
          hooked.add(child);
          (child as unknown as { on(type: '*', handler: (event: StreamEmitted) => void): void }).on('*', onStreamEvent);
        }
      }
      if (snapshot.context.pendingTotal === 0 && idleWaiters.size > 0) {
        for (const waiter of idleWaiters) waiter.resolve();
        idleWaiters.clear();
      }
      if (snapshot.status === 'done') {
        for (const waiter of doneWaiters) waiter.resolve();
        doneWaiters.clear();
      }
    },
    error: (error) => {
      failure = { error };
      for (const waiter of [...doneWaiters, ...idleWaiters]) waiter.reject(error);
      doneWaiters.clear();
      idleWaiters.clear();
      start.onError(error);
    },
  });
  actor.start();

  return {
    actor,
    send: (delivery) => actor.send({ type: 'CHUNK', delivery }),
    release: (streamId) => actor.send({ type: 'RELEASE_STREAM', streamId }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        if (failure !== null) return reject(failure.error);
        if (actor.getSnapshot().status === 'done') return resolve();
        doneWaiters.add({ resolve, reject });
        actor.send({ type: 'SHUTDOWN' });
      }),
    whenIdle: () =>
      new Promise<void>((resolve, reject) => {
        if (failure !== null) return reject(failure.error);
        if (actor.getSnapshot().context.pendingTotal === 0) return resolve();
        idleWaiters.add({ resolve, reject });
      }),
    actorCounts: () => countActorsByState(actor.getSnapshot()),
  };
}
