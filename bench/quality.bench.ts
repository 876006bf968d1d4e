/**
 * Identity quality and tracker cost on synthetic streams (seeds 1–10 and the near-identical-twins
 * hard case; 3 chunks × 10 s at 10 fps, 5 horses leaving and re-entering across chunk boundaries).
 *
 * Each stream is perceived once through the real stages (ffmpeg decode at the pipeline's size,
 * the project's ONNX detector and ReID models on CPU); the recorded perceptions are then tracked
 * chunk by chunk with the registry hand-over in memory (each chunk's horses become the next
 * chunk's KnownHorse, most recently seen first, as the registry loads them, and its tracker
 * state resumes the next chunk's live tracks, as the stream actor's does), timing every
 * tracker update. The full pipeline with the PGlite registry and a restart is checked by
 * test/quality/identity.test.ts; it gives IDF1 within 0.3 points of these (it also skips the
 * embedder, and the detector on still frames, where it may).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { evaluateMot, parseMotFile, type MotRow } from '../src/eval/index.ts';
import { openInferenceModels } from '../src/inference/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { ensureProjectModels } from '../src/cli/project-models.ts';
import { DECODE_MAX_SIDE, trackerOptionsFor } from '../src/pipeline/runtime.ts';
import { writeSyntheticStream, type SyntheticStream } from '../src/synth/writer.ts';
import { knownHorseAfterChunk } from '../src/tracking/handover.ts';
import { createChunkTracker } from '../src/tracking/tracker.ts';
import type { FramePerception, KnownHorse } from '../src/tracking/types.ts';
import type { TrackerState } from '../src/tracking/state.ts';
import type { TrackerOptions } from '../src/tracking/options.ts';
import { decodeChunk, decodeOptionsFromConfig } from '../src/video/index.ts';
import { qualityConfig } from '../test/quality/stream-run.ts';
import { percentile, summarize } from './stats.ts';

const CASES = [
  { label: 'seed 1', seed: 1, hard: false },
  { label: 'seed 2', seed: 2, hard: false },
  { label: 'seed 3', seed: 3, hard: false },
  { label: 'seed 4', seed: 4, hard: false },
  { label: 'seed 5', seed: 5, hard: false },
  { label: 'seed 6', seed: 6, hard: false },
  { label: 'seed 7', seed: 7, hard: false },
  { label: 'seed 8', seed: 8, hard: false },
  { label: 'seed 9', seed: 9, hard: false },
  { label: 'seed 10', seed: 10, hard: false },
  { label: 'hard (seed 1, twins)', seed: 1, hard: true },
];
const STREAM_START_MS = Date.parse('2026-01-01T10:00:00Z');

type Perceive = (file: string) => Promise<FramePerception[]>;

/** Perception, and the tracker options the pipeline derives from the configuration and the models' configs. */
async function openPerception(dataDir: string): Promise<{ perceive: Perceive; trackerOptions: Partial<TrackerOptions>; release: () => Promise<void> }> {
  const config = qualityConfig(dataDir);
  const logger = silentLogger();
  await ensureProjectModels(config, logger);
  const models = await openInferenceModels(config.models, { logger });
  const decodeOptions = decodeOptionsFromConfig(config, { maxWidth: DECODE_MAX_SIDE, maxHeight: DECODE_MAX_SIDE });
  const perceive: Perceive = async (file) => {
    const frames: FramePerception[] = [];
    for await (const frame of decodeChunk(file, path.basename(file), decodeOptions)) {
      const detections = await models.detector.detect(frame);
      const embeddings = detections.length === 0 ? [] : await models.embedder.embed(frame, detections.map((detection) => detection.box));
      frames.push({ frameIndex: frame.index, timestampS: frame.timestampS, width: frame.width, height: frame.height, detections, embeddings });
    }
    return frames;
  };
  return { perceive, trackerOptions: trackerOptionsFor(config, models), release: () => models.release() };
}

/** Tracks the stream's chunks in order through the in-memory registry hand-over. */
function trackStream(stream: SyntheticStream, chunks: FramePerception[][], options: Partial<TrackerOptions>, updateMs: number[]): { rows: MotRow[]; horses: number } {
  const known = new Map<string, KnownHorse>();
  let nextTrackingId = 1;
  let state: TrackerState | null = null;
  const rows: MotRow[] = [];
  const fps = stream.scene.options.fps;
  chunks.forEach((frames, c) => {
    const chunkStartS = stream.chunkStartS[c]!;
    const tracker = createChunkTracker({
      known: [...known.values()].sort((a, b) => b.lastSeen.getTime() - a.lastSeen.getTime() || a.trackingId - b.trackingId),
      nextTrackingId,
      chunkStart: new Date(STREAM_START_MS + chunkStartS * 1000),
      state,
      sequence: c + 1,
      options,
    });
    for (const frame of frames) {
      const started = performance.now();
      tracker.update(frame);
      updateMs.push(performance.now() - started);
    }
    const result = tracker.finish();
    nextTrackingId = result.nextTrackingId;
    state = result.state;
    for (const horse of result.horses) {
      const previous = known.get(horse.id);
      known.set(horse.id, knownHorseAfterChunk(horse, previous));
      for (const tracked of horse.frames) {
        rows.push({ frame: Math.round((chunkStartS + tracked.timestampS) * fps) + 1, id: horse.trackingId, ...tracked.box, conf: tracked.score });
      }
    }
  });
  rows.sort((a, b) => a.frame - b.frame || a.id - b.id);
  return { rows, horses: known.size };
}

export async function run(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'paddock-quality-bench-'));
  const { perceive, trackerOptions, release } = await openPerception(path.join(root, 'data'));
  const lines: string[] = [];
  const allUpdates: number[] = [];
  try {
    for (const { label, seed, hard } of CASES) {
      const stream = await writeSyntheticStream({ outDir: path.join(root, `${seed}${hard ? '-hard' : ''}`), seed, hard });
      const chunks: FramePerception[][] = [];
      for (const file of stream.chunks) chunks.push(await perceive(file));
      trackStream(stream, chunks, trackerOptions, []); // warm-up (JIT), untimed
      const updateMs: number[] = [];
      const { rows, horses } = trackStream(stream, chunks, trackerOptions, updateMs);
      allUpdates.push(...updateMs);
      const metrics = evaluateMot(parseMotFile(await readFile(stream.gtPath, 'utf8')), rows);
      lines.push(
        `${label.padEnd(22)} ${(metrics.identity.idf1 * 100).toFixed(1).padStart(6)} ${(metrics.clear.mota * 100).toFixed(1).padStart(6)} ` +
          `${String(metrics.clear.idSwitches).padStart(5)} ${(metrics.idConsistency.ratio * 100).toFixed(0).padStart(6)} % ${String(horses).padStart(7)} ` +
          `${percentile(updateMs, 50).toFixed(3).padStart(9)} ${percentile(updateMs, 99).toFixed(3).padStart(9)}`,
      );
    }
  } finally {
    await release();
    await rm(root, { recursive: true, force: true });
  }
  console.log(`${'stream'.padEnd(22)} ${'IDF1%'.padStart(6)} ${'MOTA%'.padStart(6)} ${'IDsw'.padStart(5)} ${'consist.'.padStart(8)} ${'horses'.padStart(7)} ${'upd p50ms'.padStart(9)} ${'upd p99ms'.padStart(9)}`);
  for (const line of lines) console.log(line);
  summarize('tracker update per frame, all streams', allUpdates);
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
