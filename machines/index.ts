/** The machines' public surface: what the daemon, the CLI and the tests import. */
export { startSupervisor, provideSupervisorEffects, supervisorMachine, countActorsByState, childIdOf } from './supervisor.ts';
export type { SupervisorHandle, StartSupervisorOptions, SupervisorActor, ActorStateCounts, SupervisorEvent } from './supervisor.ts';
export { streamMachine, provideStreamEffects, streamStateLabel } from './stream.ts';
export type { StreamEvent, StreamToParentEvent, StreamStateLabel, StreamInput } from './stream.ts';
export { resolveStreamOptions, resolveSupervisorOptions, backoffMs } from './options.ts';
export type { StreamOptions, SupervisorOptions, SupervisorOptionsInput, RestartPolicy } from './options.ts';
export type * from './types.ts';
