import { ensureProjectModels } from '../../src/cli/project-models.ts';
import { loadConfig } from '../../src/config/index.ts';
import { runChunkEvents } from '../../src/daemon/run-files.ts';
import { silentLogger } from '../../src/log/index.ts';
import { openPipeline } from '../../src/pipeline/runtime.ts';

/**
 * The registry the chunk files build when they run undisturbed through one pipeline (this
 * process, an embedded registry): `id:total_detections` of every horse, sorted. The soak and the
 * scale-out tests compare every stream's registry with it.
 */
export async function undisturbedRegistry(chunks: string[], options: { dataDir: string; chunkSeconds: number; env?: Record<string, string> }): Promise<string> {
  const config = loadConfig({ PADDOCK_DATA_DIR: options.dataDir, PADDOCK_LOG_LEVEL: 'silent', PADDOCK_EP: 'cpu', PADDOCK_SAMPLE_FPS: '5', ...options.env });
  await ensureProjectModels(config, silentLogger());
  const pipeline = await openPipeline({ config, logger: silentLogger(), migrations: 'apply' });
  try {
    const base = Date.UTC(2026, 11, 1, 8, 0, 0);
    const events = chunks.map((uri, c) => ({
      streamId: 'reference',
      chunkId: `reference-${c + 1}`,
      sequence: c + 1,
      uri,
      startTime: new Date(base + c * options.chunkSeconds * 1000),
      durationS: options.chunkSeconds,
    }));
    await runChunkEvents({ config, logger: silentLogger(), pipeline, events });
    return registryString(await pipeline.store.listHorses('reference'));
  } finally {
    await pipeline.close();
  }
}

export function registryString(horses: Array<{ id: string; totalDetections: number }>): string {
  return horses.map((horse) => `${horse.id}:${horse.totalDetections}`).sort().join(',');
}
