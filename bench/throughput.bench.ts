/**
 * `npm run bench -- throughput`: what ReID on demand and motion gating save, per stream, on CPU.
 * Every clip in ../shared/data/real (5 s chunks, 5 fps, the shared YOLOX-nano + OSNet) and a
 * synthetic still scene (5 grazing horses, 6 × 10 s, the project's own models, which the synthetic
 * world is drawn for; YOLOX-nano finds no horse in it) runs through the real pipeline five times — both measures off (the baseline, measured in the same run), each one alone, both, and both without camera motion compensation — and
 * prints the real-time factor (seconds of video per second of the chunks' own processing) with
 * its ratio to the baseline, the detector frames and embeddings run and skipped, and IDF1 where
 * the clip has ground truth (no loss beyond 0.01 is allowed on paddock-2horses).
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeSyntheticStream } from '../src/synth/writer.ts';
import { groundTruthOf, REAL_DIR, cutClip, runRealChunks, sampledFrames, scoreOnAnnotatedFrames, sourceFpsOf, YOLOX_OSNET } from '../test/quality/real-clips.ts';
import { inferenceWorkOf } from '../test/quality/stream-run.ts';
import { evaluateMot, parseMotFile, type MotRow } from '../src/eval/index.ts';
import { readFile } from 'node:fs/promises';
import { ensureProjectModels } from '../src/cli/project-models.ts';
import { DEFAULT_DETECTOR_MODEL, DEFAULT_REID_MODEL, loadConfig } from '../src/config/index.ts';
import { silentLogger } from '../src/log/index.ts';

const MEASURES: { label: string; env: Record<string, string> }[] = [
  { label: 'baseline (both off)', env: { PADDOCK_REID_REFRESH_FRAMES: '0', PADDOCK_MOTION_THRESHOLD: '0' } },
  { label: 'ReID on demand', env: { PADDOCK_MOTION_THRESHOLD: '0' } },
  { label: 'motion gating', env: { PADDOCK_REID_REFRESH_FRAMES: '0' } },
  { label: 'both (default)', env: {} },
  // What camera motion compensation (on by default) costs: the default without it.
  { label: 'both, no camera motion', env: { PADDOCK_CAMERA_MOTION: 'off' } },
];

interface Clip {
  name: string;
  /** Configuration of the clip's models (the shared YOLOX-nano + OSNet unless set). */
  modelEnv: Record<string, string>;
  files: string[];
  sourceFps: number;
  score: ((rows: MotRow[]) => number) | null;
}

async function realClips(root: string): Promise<Clip[]> {
  const names = (await readdir(REAL_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  const clips: Clip[] = [];
  for (const name of names) {
    const clip = path.join(REAL_DIR, name, 'clip.mp4');
    const { fps, durationS } = await sourceFpsOf(clip);
    const gt = await groundTruthOf(path.join(REAL_DIR, name));
    const files = await cutClip(clip, 5, path.join(root, name));
    clips.push({ name, modelEnv: {}, files, sourceFps: fps, score: gt === null ? null : (rows) => scoreOnAnnotatedFrames(gt, rows, sampledFrames(durationS, fps)).identity.idf1 });
  }
  return clips;
}

async function stillScene(root: string): Promise<Clip> {
  const stream = await writeSyntheticStream({ outDir: path.join(root, 'grazing'), seed: 4, grazing: true, chunks: 6 });
  const gt = parseMotFile(await readFile(stream.gtPath, 'utf8'));
  const fps = stream.scene.options.fps;
  const sampled = new Set(gt.map((row) => row.frame).filter((frame) => (frame - 1) % (fps / 5) === 0));
  const projectModels = { PADDOCK_DETECTOR_MODEL: DEFAULT_DETECTOR_MODEL, PADDOCK_REID_MODEL: DEFAULT_REID_MODEL };
  await ensureProjectModels(loadConfig({ ...projectModels, PADDOCK_LOG_LEVEL: 'silent' }), silentLogger());
  return {
    name: 'still scene (synthetic)',
    modelEnv: projectModels,
    files: stream.chunks,
    sourceFps: fps,
    score: (rows) => evaluateMot(gt.filter((row) => sampled.has(row.frame)), rows.filter((row) => sampled.has(row.frame))).identity.idf1,
  };
}

export async function run(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'paddock-bench-throughput-'));
  try {
    // PADDOCK_BENCH_CLIPS=still,paddock-2horses runs only the clips whose names start with these.
    const only = (process.env.PADDOCK_BENCH_CLIPS ?? '').split(',').filter((name) => name !== '');
    const clips = [...(await realClips(root)), await stillScene(root)].filter((clip) => only.length === 0 || only.some((name) => clip.name.startsWith(name)));
    console.log(`${'clip'.padEnd(22)} ${'measure'.padEnd(20)} ${'× real time'.padStart(11)} ${'vs base'.padStart(8)} ${'detect ran/held'.padStart(16)} ${'embed ran/skipped'.padStart(18)} ${'horses'.padStart(6)} ${'IDF1'.padStart(6)}  ms per frame: decode / detect / embed / track / thumbnails / persist`);
    for (const clip of clips) {
      let baseline = Number.NaN;
      for (const [index, measure] of MEASURES.entries()) {
        const result = await runRealChunks(clip.files, path.join(root, `${clip.name.replace(/\W+/g, '_')}-${index}-data`), YOLOX_OSNET, clip.sourceFps, { ...clip.modelEnv, ...measure.env });
        if (index === 0) baseline = result.realTimeFactor;
        const done = inferenceWorkOf(result.chunks);
        const idf1 = clip.score === null ? '—' : clip.score(result.rows).toFixed(3);
        const frames = done.detected + done.held;
        const perFrame = (stage: 'decode' | 'detect' | 'embed' | 'track' | 'thumbnails' | 'persist') =>
          (result.chunks.reduce((sum, chunk) => sum + chunk.result.timings_ms[stage], 0) / frames).toFixed(1);
        console.log(
          `${clip.name.padEnd(22)} ${measure.label.padEnd(24)} ${result.realTimeFactor.toFixed(1).padStart(11)} ${`${(result.realTimeFactor / baseline).toFixed(2)}×`.padStart(8)} ${`${done.detected}/${done.held}`.padStart(16)} ${`${done.embedded}/${done.skipped}`.padStart(18)} ${String(result.horsesRegistered).padStart(6)} ${idf1.padStart(6)}  ${['decode', 'detect', 'embed', 'track', 'thumbnails', 'persist'].map((stage) => perFrame(stage as 'decode')).join(' / ')}`,
        );
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
