/**
 * Runs a synthetic stream through the real pipeline (ffmpeg decode, the project's ONNX detector
 * and ReID models, the tracker, the embedded PGlite registry), as `paddock process` does, and
 * scores the predictions against the stream's ground truth. Shared by the identity-quality test
 * and the quality benchmark.
 */
import { readFile } from 'node:fs/promises';
import { loadConfig, type PaddockConfig } from '../../src/config/index.ts';
import { evaluateMot, parseMotFile, type MotMetrics, type MotRow } from '../../src/eval/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { ensureProjectModels } from '../../src/cli/project-models.ts';
import { runFileStream } from '../../src/daemon/run-files.ts';
import { joinProvisionalRows } from '../../src/pipeline/mot-predictions.ts';
import type { PersistedChunk } from '../../src/pipeline/types.ts';
import type { HorseSummary } from '../../src/registry/types.ts';
import type { SyntheticStream } from '../../src/synth/writer.ts';

export const QUALITY_STREAM_ID = 'quality';
/** The synthetic stream's first frame, in wall-clock time (fixed, so runs are reproducible). */
const STREAM_START_MS = Date.parse('2026-01-01T10:00:00Z');

export function qualityConfig(dataDir: string, env: Record<string, string> = {}): PaddockConfig {
  return loadConfig({ PADDOCK_DATA_DIR: dataDir, PADDOCK_SAMPLE_FPS: '10', PADDOCK_LOG_LEVEL: 'silent', PADDOCK_EP: 'cpu', ...env });
}

export interface StreamRun {
  /** MOT predictions of every chunk, stream frame numbering, sorted by frame then ID. */
  rows: MotRow[];
  /** The registry after the last chunk. */
  horses: HorseSummary[];
  /** Persisted chunk results in stream order. */
  chunks: PersistedChunk[];
}

/**
 * Processes the stream's chunks in `sessions` (lists of chunk indexes, in order); each session
 * opens the pipeline on `dataDir`, runs its chunks and closes it again, so two sessions are a
 * daemon restart between chunks. `env` adds configuration (e.g. PADDOCK_MOTION_THRESHOLD).
 */
export async function processStream(
  stream: SyntheticStream,
  dataDir: string,
  sessions: number[][] = [stream.chunks.map((_, i) => i)],
  env: Record<string, string> = {},
): Promise<StreamRun> {
  const config = qualityConfig(dataDir, env);
  const logger = silentLogger();
  const rows: MotRow[] = [];
  const chunks: PersistedChunk[] = [];
  let horses: HorseSummary[] = [];
  const secondsPerChunk = stream.scene.options.secondsPerChunk;
  for (const session of sessions) {
    await ensureProjectModels(config, logger);
    const last = session[session.length - 1]!;
    const run = await runFileStream({
      config,
      logger,
      migrations: 'apply',
      streamId: QUALITY_STREAM_ID,
      chunks: { files: session.map((index) => stream.chunks[index]!), endTime: new Date(STREAM_START_MS + (stream.chunkStartS[last]! + secondsPerChunk) * 1000) },
      chunkOffsetS: (index) => stream.chunkStartS[session[index]!]!,
      after: async (pipeline) => {
        horses = await pipeline.store.listHorses(QUALITY_STREAM_ID);
      },
    });
    if (run.failed.length > 0) throw new Error(`chunks failed: ${JSON.stringify(run.failed)}`);
    chunks.push(...run.chunks);
    rows.push(...run.rows);
  }
  return { rows: joinProvisionalRows(rows, chunks, 'drop'), horses, chunks };
}

/** What the chunks' inference ran and skipped (motion gating, ReID on demand), summed. */
export function inferenceWorkOf(chunks: readonly PersistedChunk[]): { detected: number; held: number; embedded: number; skipped: number } {
  return chunks.reduce(
    (sum, chunk) => ({
      detected: sum.detected + chunk.outcome.inference.framesDetected,
      held: sum.held + chunk.outcome.inference.framesHeld,
      embedded: sum.embedded + chunk.outcome.inference.embeddingsComputed,
      skipped: sum.skipped + chunk.outcome.inference.embeddingsSkipped,
    }),
    { detected: 0, held: 0, embedded: 0, skipped: 0 },
  );
}

export interface StreamQuality {
  metrics: MotMetrics;
  idf1: number;
  mota: number;
  idSwitches: number;
  /** Share of ground-truth horses matched to one single predicted ID over the whole stream. */
  consistency: number;
  /** Ground-truth IDs matched to more than one predicted ID. */
  inconsistentGtIds: number[];
  horsesRegistered: number;
}

export async function scoreStream(stream: SyntheticStream, run: StreamRun): Promise<StreamQuality> {
  const gt = parseMotFile(await readFile(stream.gtPath, 'utf8'));
  const metrics = evaluateMot(gt, run.rows);
  return {
    metrics,
    idf1: metrics.identity.idf1,
    mota: metrics.clear.mota,
    idSwitches: metrics.clear.idSwitches,
    consistency: metrics.idConsistency.ratio,
    inconsistentGtIds: metrics.idConsistency.inconsistent.map((entry) => entry.gtId),
    horsesRegistered: run.horses.length,
  };
}
