/**
 * `npm run bench -- real`: every clip in ../shared/data/real through the real pipeline, cut into
 * 5 s and 10 s chunks at 5 fps, with each detector/embedder pair in ../shared/models that fits:
 * horses in the registry vs what a person sees, IDF1, MOTA and ID switches on the annotated
 * frames, and frames per second. Side by side: the same run with per-chunk tracking (the previous
 * tracker: every chunk starts from the registry alone, continuousTracks off).
 */
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
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
  type ModelPair,
} from '../test/quality/real-clips.ts';

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
    const pairs = [YOLOX_OSNET, await perChunkConfig(YOLOX_OSNET, root), YOLO11N_OSNET, await perChunkConfig(YOLO11N_OSNET, root)];
    console.log('clip               chunk  models                           horses (truth)  IDF1   MOTA   IDsw  fps');
    for (const clipName of clips) {
      const clipDir = path.join(REAL_DIR, clipName);
      const clip = path.join(clipDir, 'clip.mp4');
      const { fps, durationS } = await sourceFpsOf(clip);
      const gt = await groundTruthOf(clipDir);
      for (const chunkS of [5, 10]) {
        const files = await cutClip(clip, chunkS, path.join(root, `${clipName}-${chunkS}`));
        for (const pair of pairs) {
          const result = await runRealChunks(files, path.join(root, `${clipName}-${chunkS}-${pair.label.replace(/\W+/g, '_')}`), pair, fps);
          const metrics = gt === null ? null : scoreOnAnnotatedFrames(gt, result.rows, sampledFrames(durationS, fps));
          const cell = (value: number | undefined, digits = 3) => (value === undefined ? '—' : value.toFixed(digits)).padStart(6);
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
