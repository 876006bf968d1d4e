import type { ChunkEvent, StreamEffects } from '../../machines/types.ts';
import { errorMessage, PaddockError } from '../errors/index.ts';
import type { RegistrySnapshot, RegistryStore } from '../registry/index.ts';
import { persistChunk } from './persist-chunk.ts';
import { processChunk, type ProcessChunkDeps } from './process-chunk.ts';
import type { ChunkOutcome, PersistedChunk } from './types.ts';

export interface PipelineDeps extends ProcessChunkDeps {
  store: RegistryStore;
}

/**
 * The stream machine's effects, wired to the real registry, video, inference and tracking.
 * Registry load and version-check time is carried into the next chunk's `load_registry` timing.
 * A persisted chunk leaves only through the machine's `chunk.processed`, at its ack.
 */
export function createStreamEffects(deps: PipelineDeps): StreamEffects<RegistrySnapshot, ChunkOutcome, PersistedChunk> & { settled(): Promise<void> } {
  const pendingLoadMs = new Map<string, number>();
  const addLoadTime = (streamId: string, ms: number) => pendingLoadMs.set(streamId, (pendingLoadMs.get(streamId) ?? 0) + ms);
  // A stopped actor does not wait for its effect's promise: the registry must stay open until an
  // aborted chunk has recorded the end of its attempt (else a shutdown would count as a crash).
  const inFlight = new Set<Promise<unknown>>();
  const tracked = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work)).catch(() => {});
    return work;
  };

  return {
    /** Resolves when every chunk attempt and save started so far has ended, however. */
    async settled() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async loadRegistry({ streamId }) {
      const started = performance.now();
      const [registry, lastSequence] = await Promise.all([deps.store.load(streamId), deps.store.lastSequence(streamId)]);
      addLoadTime(streamId, performance.now() - started);
      return { registry, lastSequence };
    },
    isChunkDone: ({ streamId, chunkId }) => deps.store.isChunkProcessed(streamId, chunkId),
    interruptedAttempts: ({ streamId, chunkId }) => deps.store.interruptedAttempts(streamId, chunkId),
    async registryVersionMoved({ streamId, registry }) {
      const started = performance.now();
      const stored = await deps.store.registryVersion(streamId);
      addLoadTime(streamId, performance.now() - started);
      return stored !== registry.registryVersion;
    },
    processChunk: ({ streamId, event, registry, signal }) => tracked(attemptChunk(streamId, event, registry, signal)),
    persistChunk: ({ registry, outcome }) => tracked(persistChunk(deps.store, registry, outcome)),
  };

  async function attemptChunk(streamId: string, event: ChunkEvent, registry: RegistrySnapshot, signal: AbortSignal): Promise<ChunkOutcome> {
    const loadMs = pendingLoadMs.get(streamId) ?? 0;
    pendingLoadMs.delete(streamId);
    // Counted as interrupted until it ends in order: only a process that dies mid-chunk leaves it counted.
    await infrastructure(() => deps.store.attemptStarted(streamId, event.chunkId));
    try {
      return await processChunk(deps, event, registry, signal, loadMs);
    } finally {
      await deps.store.attemptEnded(streamId, event.chunkId).catch((error: unknown) => {
        deps.logger.warn({ stream_id: streamId, chunk_id: event.chunkId, err: errorMessage(error) }, 'could not record the end of a chunk attempt');
      });
    }
  }
}

/** Runs a registry call whose failure is the database's, never the chunk's. */
async function infrastructure<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof PaddockError && (error.infrastructure || error.ownershipLost)) throw error;
    throw new PaddockError('DATABASE', `the registry is unavailable: ${errorMessage(error)}`, { cause: error });
  }
}
