/**
 * End-to-end registry overhead per chunk: synthetic 10 s chunks through the supervisor, the
 * stream machine and the real pipeline (ffmpeg, the project's ONNX models, tracker, PostgreSQL +
 * Redis), with 50 known horses in each stream's registry. The original plan budgets +2 % for the
 * registry (load + matching + thumbnails + persist) on top of the chunk's processing.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { planFileChunks, runChunkEvents } from '../src/daemon/run-files.ts';
import { ensureProjectModels } from '../src/cli/project-models.ts';
import { openPipeline } from '../src/pipeline/runtime.ts';
import type { ChunkResultJson, PersistedChunk } from '../src/pipeline/types.ts';
import { writeSyntheticStream } from '../src/synth/index.ts';
import { chunk, featureBank, newHorseUpdate } from '../test/helpers/registry-fixtures.ts';
import { createScratchDatabase, TEST_REDIS_URL, uniqueId } from '../test/helpers/services.ts';
import { percentile, summarize } from './stats.ts';

const STREAMS = 3;
const KNOWN_HORSES = 50;

export async function run(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-bench-pipeline-'));
  const scratch = await createScratchDatabase('paddock_t_bench');
  const config = loadConfig({ DATABASE_URL: scratch.url, REDIS_URL: TEST_REDIS_URL, PADDOCK_DATA_DIR: dir, PADDOCK_LOG_LEVEL: 'silent' });
  const logger = silentLogger();
  const results: ChunkResultJson[] = [];
  await ensureProjectModels(config, logger);
  const pipeline = await openPipeline({ config, logger, migrations: 'apply' });
  try {
    const stream = await writeSyntheticStream({ outDir: path.join(dir, 'video'), horses: 5, chunks: 4, secondsPerChunk: 10, fps: 10, seed: 5 });
    const dim = pipeline.models.embedder.dimension;
    for (let s = 0; s < STREAMS; s += 1) {
      const streamId = uniqueId('bench-pipeline');
      // 45 horses seen weeks ago (not carried over, but matched against), room for the 5 in view.
      const known = Array.from({ length: KNOWN_HORSES - 5 }, (_, i) =>
        newHorseUpdate(i + 1, { dim, features: featureBank(dim, 7000 + i, 8), seenAt: new Date('2026-10-01T00:00:00Z'), thumbnail: Buffer.alloc(4096, i), thumbnailQuality: 1e9 }),
      );
      await pipeline.store.saveChunk(chunk(streamId, 0), known);
      const plan = await planFileChunks(config, streamId, stream.chunks, 0);
      await runChunkEvents({
        config,
        logger,
        pipeline,
        events: plan.events,
        onStreamEvent: (event) => {
          if (event.type === 'chunk.processed') results.push((event.persisted as PersistedChunk).result);
        },
      });
    }
  } finally {
    await pipeline.close();
    await scratch.drop();
    await rm(dir, { recursive: true, force: true });
  }
  // The first chunk of each stream loads the registry from the database (cold); the rest keep it.
  console.log(`${results.length} chunks of 10 s at ${config.sampleFps} fps, ${KNOWN_HORSES} known horses per stream, PostgreSQL + Redis`);
  for (const stage of ['load_registry', 'decode', 'detect', 'embed', 'track', 'thumbnails', 'persist', 'total'] as const) {
    summarize(`stage ${stage}`, results.map((result) => result.timings_ms[stage]));
  }
  // The registry decisions run inside the track stage; what the overhead holds beyond the other registry stages.
  summarize(
    'registry matching (inside track)',
    results.map((result) => Math.max(0, result.overhead_ratio * result.timings_ms.total - result.timings_ms.load_registry - result.timings_ms.thumbnails - result.timings_ms.persist)),
  );
  const ratios = results.map((result) => result.overhead_ratio * 100);
  console.log(
    `registry overhead (load + matching + thumbnails + persist): p50 ${percentile(ratios, 50).toFixed(2)} %, p99 ${percentile(ratios, 99).toFixed(2)} % of chunk time (the plan's budget: 2 %)`,
  );
}
