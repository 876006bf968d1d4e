/** The effects the stream machine invokes (load registry, process chunk, persist), opened as one pipeline. */
export { openPipeline, trackerOptionsFor, DECODE_MAX_SIDE, type Pipeline } from './runtime.ts';
export { motRowsOf, joinProvisionalRows, PROVISIONAL_MOT_ID_OFFSET } from './mot-predictions.ts';
export type { ChunkOutcome, ChunkResultJson, ChunkTimings, PersistedChunk } from './types.ts';
