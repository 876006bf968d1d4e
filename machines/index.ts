/** The machines' public surface: what the daemon, the CLI and the tests import. */
export { provideSupervisorEffects, supervisorMachine, countActorsByState, childIdOf } from './supervisor.ts';
export type { SupervisorActor, ActorStateCounts, SupervisorEvent } from './supervisor.ts';
export { startSupervisor } from './supervisor-host.ts';
export type { SupervisorHandle, StartSupervisorOptions } from './supervisor-host.ts';
export { streamMachine, provideStreamEffects, streamStateLabel } from './stream.ts';
export type { StreamEvent, StreamToParentEvent, StreamStateLabel, StreamInput } from './stream.ts';
export { resolveStreamOptions, resolveSupervisorOptions, backoffMs } from './options.ts';
export type { StreamOptions, SupervisorOptions, SupervisorOptionsInput, RestartPolicy } from './options.ts';
export type * from './types.ts';
