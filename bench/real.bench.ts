/**
 * `npm run bench -- real`: every clip in ../shared/data/real through the real pipeline, cut into
 * 2, 5, 10 and 30 s chunks at 5 fps, with each detector/embedder pair in ../shared/models that fits:
 * horses in the registry vs what a person sees, IDF1, MOTA and ID switches on the annotated
 * frames, and frames per second. Side by side, at 5 s and 10 s: the same run without camera motion
 * compensation, with per-chunk tracking (the previous tracker: every chunk starts from the registry
 * alone, continuousTracks off), and
 * node-moving-things-tracker on the same detector's detections of the whole clip.
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import type { MotRow } from '../src/eval/index.ts';
import { createDetector } from '../src/inference/detector.ts';
import { silentLogger } from '../src/log/index.ts';
import { DECODE_MAX_SIDE } from '../src/pipeline/runtime.ts';
import { decodeChunk, decodeOptionsFromConfig } from '../src/video/index.ts';
import {
  cutClip,
  groundTruthOf,
  REAL_DIR,
  runRealChunks,
  sampledFrames,
  scoreOnAnnotatedFrames,
  sourceFpsOf,
  YOLO11N_OSNET,
  YOLOX_OSNET,
  SHARED,
  type ModelPair,
} from '../test/quality/real-clips.ts';

interface MovingThingsTracker {
  reset(): void;
  updateTrackedItemsWithNewFrame(detections: { x: number; y: number; w: number; h: number; confidence: number; name: string }[], frameNb: number): void;
  getJSONOfTrackedItems(roundInt?: boolean): { id: number; x: number; y: number; w: number; h: number; confidence: number; isZombie: boolean }[];
}

/**
 * node-moving-things-tracker (OpenDataCam's, defaults as shipped) on the pair's detections of the
 * whole clip at 5 fps (it has no chunks and no registry): its predictions and distinct IDs.
 */
async function movingThingsOnClip(clip: string, pair: ModelPair, sourceFps: number): Promise<{ rows: MotRow[]; ids: number }> {
  const config = loadConfig({ PADDOCK_SAMPLE_FPS: '5', PADDOCK_LOG_LEVEL: 'silent' });
  const detector = await createDetector({
    executionProviders: ['cpu'],
    intraOpThreads: 0,
    interOpThreads: 0,
    logger: silentLogger(),
    modelPath: path.join(SHARED, 'models', `${pair.detector}.onnx`),
    configPath: pair.detectorConfig,
  });
  const tracker = createRequire(import.meta.url)('node-moving-things-tracker/tracker.js') as MovingThingsTracker;
  tracker.reset();
  const rows: MotRow[] = [];
  const ids = new Set<number>();
  try {
    for await (const frame of decodeChunk(clip, path.basename(clip), decodeOptionsFromConfig(config, { maxWidth: DECODE_MAX_SIDE, maxHeight: DECODE_MAX_SIDE }))) {
      const detections = await detector.detect(frame);
      tracker.updateTrackedItemsWithNewFrame(
        detections.map((d) => ({ x: d.box.x + d.box.w / 2, y: d.box.y + d.box.h / 2, w: d.box.w, h: d.box.h, confidence: d.score * 100, name: 'horse' })),
        frame.index,
      );
      for (const item of tracker.getJSONOfTrackedItems(false)) {
        if (item.isZombie) continue;
        ids.add(item.id);
        rows.push({ frame: Math.round(frame.timestampS * sourceFps) + 1, id: item.id + 1, x: item.x - item.w / 2, y: item.y - item.h / 2, w: item.w, h: item.h, conf: item.confidence / 100 });
      }
    }
  } finally {
    await detector.release();
  }
  return { rows, ids: ids.size };
}

/** A model pair and the configuration it runs with. */
interface Variant {
  pair: ModelPair;
  env: Record<string, string>;
  /** Also run at every chunk length (the defaults), not only at COMPARED_CHUNK_SECONDS. */
  compareChunkLength?: true;
}

/** Chunk lengths every clip is cut into: the result should not depend on them. */
const CHUNK_SECONDS = [2, 5, 10, 30];
/** Chunk lengths at which the comparison variants (no camera motion, per-chunk tracking) run too. */
const COMPARED_CHUNK_SECONDS = [5, 10];

/** What a person sees in each clip (../shared/data/real/README.md). */
const TRUTH: Record<string, string> = { 'paddock-2horses': '2', 'horsejump-high': '1', 'beach-herd': '10–12', 'rider-monument': '1' };

async function perChunkConfig(pair: ModelPair, root: string): Promise<ModelPair> {
  const { readFile } = await import('node:fs/promises');
  const source = pair.detectorConfig ?? path.resolve('models', 'configs', `${pair.detector}.json`);
  const config = JSON.parse(await readFile(source, 'utf8')) as { tracking?: Record<string, unknown> };
  const file = path.join(root, `${pair.detector}-per-chunk.json`);
  await writeFile(file, JSON.stringify({ ...config, tracking: { ...config.tracking, continuousTracks: false } }));
  return { ...pair, label: `${pair.label} per-chunk`, detectorConfig: file };
}

export async function run(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'paddock-bench-real-'));
  try {
    const clips = (await readdir(REAL_DIR, { withFileTypes: true })).filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
    const withoutCameraMotion = (pair: ModelPair): Variant => ({ pair: { ...pair, label: `${pair.label} no camera` }, env: { PADDOCK_CAMERA_MOTION: 'off' } });
    const variants: Variant[] = [
      { pair: YOLOX_OSNET, env: {}, compareChunkLength: true },
      withoutCameraMotion(YOLOX_OSNET),
      { pair: await perChunkConfig(YOLOX_OSNET, root), env: {} },
      { pair: YOLO11N_OSNET, env: {}, compareChunkLength: true },
      withoutCameraMotion(YOLO11N_OSNET),
      { pair: await perChunkConfig(YOLO11N_OSNET, root), env: {} },
    ];
    console.log('clip               chunk  models                           horses (truth)  IDF1   MOTA   IDsw  fps');
    for (const clipName of clips) {
      const clipDir = path.join(REAL_DIR, clipName);
      const clip = path.join(clipDir, 'clip.mp4');
      const { fps, durationS } = await sourceFpsOf(clip);
      const gt = await groundTruthOf(clipDir);
      const cell = (value: number | undefined, digits = 3) => (value === undefined ? '—' : value.toFixed(digits)).padStart(6);
      for (const pair of [YOLOX_OSNET, YOLO11N_OSNET]) {
        const peer = await movingThingsOnClip(clip, pair, fps);
        const metrics = gt === null ? null : scoreOnAnnotatedFrames(gt, peer.rows, sampledFrames(durationS, fps));
        console.log(
          `${clipName.padEnd(18)} ${'whole'.padStart(5)}  ${`${pair.detector} + moving-things`.padEnd(32)} ${`${peer.ids} IDs (${TRUTH[clipName] ?? '?'})`.padStart(14)} ${cell(metrics?.identity.idf1)} ${cell(metrics?.clear.mota)} ${(metrics === null ? '—' : String(metrics.clear.idSwitches)).padStart(5)}`,
        );
      }
      for (const chunkS of CHUNK_SECONDS) {
        const files = await cutClip(clip, chunkS, path.join(root, `${clipName}-${chunkS}`));
        for (const { pair, env } of COMPARED_CHUNK_SECONDS.includes(chunkS) ? variants : variants.filter((variant) => variant.compareChunkLength)) {
          const result = await runRealChunks(files, path.join(root, `${clipName}-${chunkS}-${pair.label.replace(/\W+/g, '_')}`), pair, fps, env);
          const metrics = gt === null ? null : scoreOnAnnotatedFrames(gt, result.rows, sampledFrames(durationS, fps));
          console.log(
            `${clipName.padEnd(18)} ${`${chunkS} s`.padStart(5)}  ${pair.label.padEnd(32)} ${`${result.horsesRegistered} (${TRUTH[clipName] ?? '?'})`.padStart(14)} ${cell(metrics?.identity.idf1)} ${cell(metrics?.clear.mota)} ${(metrics === null ? '—' : String(metrics.clear.idSwitches)).padStart(5)} ${result.fps.toFixed(1).padStart(5)}`,
          );
        }
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
