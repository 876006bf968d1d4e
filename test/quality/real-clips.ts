/**
 * Real camera footage (../shared/data/real) through the real pipeline, as a user would run it:
 * the clip is cut into chunk files with ffmpeg, the chunks go through `paddock process`'s path
 * (stream machine, decode, the shared detector and embedder, the tracker, the embedded registry)
 * and the predictions are scored against the clip's ground truth on its annotated frames only.
 * Shared by the real-footage test and `npm run bench -- real`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadConfig } from '../../src/config/index.ts';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { evaluateMot, parseMotFile, type MotMetrics, type MotRow } from '../../src/eval/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import { planFileChunks, runFileStream } from '../../src/daemon/run-files.ts';
import { joinProvisionalRows } from '../../src/pipeline/mot-predictions.ts';
import type { PersistedChunk } from '../../src/pipeline/types.ts';
import { resolveFfmpegPath } from '../../src/video/index.ts';

const run = promisify(execFile);

export const SHARED = path.resolve(PROJECT_ROOT, '..', 'shared');
export const REAL_DIR = path.join(SHARED, 'data', 'real');
const STREAM_ID = 'real';

export interface ModelPair {
  label: string;
  detector: string;
  reid: string;
  /** Config of a test-only model (the AGPL YOLO11n files have theirs under test/fixtures/models). */
  detectorConfig?: string;
}

export const YOLOX_OSNET: ModelPair = { label: 'yolox-nano+osnet', detector: 'yolox_nano_416x416', reid: 'osnet_x0_25_msmt17' };
export const YOLO11N_OSNET: ModelPair = {
  label: 'yolo11n-640+osnet',
  detector: 'yolo11n_int8dyn_640',
  reid: 'osnet_x0_25_msmt17',
  detectorConfig: path.join(PROJECT_ROOT, 'test', 'fixtures', 'models', 'yolo11n_int8dyn_640.json'),
};

/** Cuts `clip` into chunk files of `seconds` each (re-encoded, a key frame at every cut). */
export async function cutClip(clip: string, seconds: number, outDir: string): Promise<string[]> {
  await mkdir(outDir, { recursive: true });
  const ffmpeg = resolveFfmpegPath({});
  await run(ffmpeg, [
    '-loglevel', 'error', '-y', '-i', clip,
    '-an', '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p',
    '-force_key_frames', `expr:gte(t,n_forced*${seconds})`,
    '-f', 'segment', '-segment_time', String(seconds), '-reset_timestamps', '1',
    path.join(outDir, 'chunk_%03d.mp4'),
  ]);
  return (await readdir(outDir)).filter((name) => name.startsWith('chunk_')).sort().map((name) => path.join(outDir, name));
}

/**
 * Clips made from the real photo ../shared/data/horses.jpg (4 horses a detector finds, about 6 in
 * all, overlapping): a 2 s still, and an 8 s pan of a 480-px window across it and back, so the
 * horses at the left leave the view and come back.
 */
export async function photoClips(outDir: string): Promise<{ still: string; pan: string }> {
  await mkdir(outDir, { recursive: true });
  const ffmpeg = resolveFfmpegPath({});
  const photo = path.join(SHARED, 'data', 'horses.jpg');
  const encode = ['-c:v', 'libx264', '-preset', 'veryfast', '-crf', '18', '-pix_fmt', 'yuv420p', '-r', '25'];
  const still = path.join(outDir, 'still.mp4');
  const pan = path.join(outDir, 'pan.mp4');
  await run(ffmpeg, ['-loglevel', 'error', '-y', '-loop', '1', '-i', photo, '-t', '2', '-vf', 'scale=772:512', ...encode, still]);
  await run(ffmpeg, ['-loglevel', 'error', '-y', '-loop', '1', '-i', photo, '-t', '8', '-vf', "crop=480:512:x='(772-480)*(1-abs(t/4-1))':y=0", ...encode, pan]);
  return { still, pan };
}

export interface RealRun {
  chunks: PersistedChunk[];
  /** Joined predictions (provisional tracks attributed to their horse), the clip's frame numbering. */
  rows: MotRow[];
  horsesRegistered: number;
  /** Frames tracked per second of processing (decode, inference, tracking, registry). */
  fps: number;
  /** Seconds of video per second of the chunks' own processing. */
  realTimeFactor: number;
}

/** Runs the chunk files as one stream through a fresh pipeline on `dataDir`; `env` adds configuration. */
export async function runRealChunks(files: string[], dataDir: string, pair: ModelPair, sourceFps: number, env: Record<string, string> = {}): Promise<RealRun> {
  const config = loadConfig({
    PADDOCK_DATA_DIR: dataDir,
    PADDOCK_SAMPLE_FPS: '5',
    PADDOCK_LOG_LEVEL: 'silent',
    PADDOCK_EP: 'cpu',
    PADDOCK_DETECTOR_MODEL: path.join(SHARED, 'models', `${pair.detector}.onnx`),
    PADDOCK_REID_MODEL: path.join(SHARED, 'models', `${pair.reid}.onnx`),
    ...(pair.detectorConfig === undefined ? {} : { PADDOCK_DETECTOR_CONFIG: pair.detectorConfig }),
    ...env,
  });
  let horsesRegistered = 0;
  const run = await runFileStream({
    config,
    logger: silentLogger(),
    migrations: 'apply',
    streamId: STREAM_ID,
    chunks: { files },
    motFps: sourceFps,
    after: async (pipeline) => {
      horsesRegistered = (await pipeline.store.listHorses(STREAM_ID)).length;
    },
  });
  if (run.failed.length > 0) throw new Error(`chunks failed: ${JSON.stringify(run.failed)}`);
  const frames = run.chunks.reduce((sum, chunk) => sum + chunk.outcome.framesDecoded, 0);
  // The chunks' own processing time: opening the pipeline (loading the models) is not tracking.
  const processingS = run.chunks.reduce((sum, chunk) => sum + chunk.result.timings_ms.total, 0) / 1000;
  const videoS = run.chunks.reduce((sum, chunk) => sum + chunk.outcome.event.durationS, 0);
  return { chunks: run.chunks, rows: joinProvisionalRows(run.rows, run.chunks, 'drop'), horsesRegistered, fps: frames / processingS, realTimeFactor: videoS / processingS };
}

/** The clip's ground truth, or null when it has none. */
export async function groundTruthOf(clipDir: string): Promise<MotRow[] | null> {
  const file = path.join(clipDir, 'gt.txt');
  return existsSync(file) ? parseMotFile(await readFile(file, 'utf8'), file) : null;
}

/**
 * MOT metrics on the frames both the ground truth annotates and the 5 fps sampler predicts. Chunk
 * files cut from a clip start on whole frames, so a prediction's frame number can be a frame off
 * the clip's own sampling grid: each is snapped to the nearest sampled frame (within half a
 * sampling interval) before scoring.
 */
export function scoreOnAnnotatedFrames(gt: readonly MotRow[], rows: readonly MotRow[], predictedFrames: ReadonlySet<number>): MotMetrics {
  const annotated = new Set(gt.map((row) => row.frame));
  const frames = new Set([...annotated].filter((frame) => predictedFrames.has(frame)));
  const grid = [...predictedFrames].sort((a, b) => a - b);
  const halfStep = grid.length > 1 ? (grid[1]! - grid[0]!) / 2 : 1;
  const snapped = new Map<string, MotRow>();
  for (const row of rows) {
    const nearest = grid.reduce((best, frame) => (Math.abs(frame - row.frame) < Math.abs(best - row.frame) ? frame : best), grid[0] ?? row.frame);
    if (Math.abs(nearest - row.frame) > halfStep || !frames.has(nearest)) continue;
    const key = `${nearest}:${row.id}`;
    if (!snapped.has(key)) snapped.set(key, { ...row, frame: nearest });
  }
  return evaluateMot(
    gt.filter((row) => frames.has(row.frame)),
    [...snapped.values()],
  );
}

/** Stream frame numbers a 5 fps sampler takes from a clip of `durationS` at `sourceFps`: round(k / 5 × fps) + 1. */
export function sampledFrames(durationS: number, sourceFps: number): Set<number> {
  const frames = new Set<number>();
  for (let k = 0; k / 5 < durationS; k += 1) frames.add(Math.round((k / 5) * sourceFps) + 1);
  return frames;
}

/** The source frame rate of a clip, from ffmpeg's probe of it. */
export async function sourceFpsOf(clip: string): Promise<{ fps: number; durationS: number }> {
  const config = loadConfig({ PADDOCK_LOG_LEVEL: 'silent' });
  const plan = await planFileChunks(config, STREAM_ID, [clip], null);
  const probe = plan.probes[0]!;
  return { fps: probe.fps ?? 30, durationS: probe.durationS ?? 0 };
}
