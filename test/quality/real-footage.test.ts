/**
 * Identity on real camera footage (../shared/data/real), through the real pipeline with the
 * shared YOLOX-nano detector and OSNet embedder (their shipped, calibrated configs): the floors
 * the clips' ground truth and README set. See `npm run bench -- real` for every pair and chunk length.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutClip, groundTruthOf, REAL_DIR, runRealChunks, sampledFrames, scoreOnAnnotatedFrames, sourceFpsOf, YOLOX_OSNET } from './real-clips.ts';

const TIMEOUT_MS = 300_000;

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'paddock-real-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function runClip(name: string, chunkS: number) {
  const clipDir = path.join(REAL_DIR, name);
  const clip = path.join(clipDir, 'clip.mp4');
  const { fps, durationS } = await sourceFpsOf(clip);
  const files = await cutClip(clip, chunkS, path.join(root, `${name}-${chunkS}s`));
  const result = await runRealChunks(files, path.join(root, `${name}-${chunkS}s-data`), YOLOX_OSNET, fps);
  const gt = await groundTruthOf(clipDir);
  return { result, metrics: gt === null ? null : scoreOnAnnotatedFrames(gt, result.rows, sampledFrames(durationS, fps)) };
}

describe('identity on real footage (YOLOX-nano + OSNet)', () => {
  for (const chunkS of [5, 10]) {
    it(
      `paddock-2horses in ${chunkS} s chunks: exactly 2 horses, IDF1 ≥ 0.70`,
      async () => {
        const { result, metrics } = await runClip('paddock-2horses', chunkS);
        expect(result.horsesRegistered).toBe(2);
        // Measured 0.713 (10 s) and 0.719 (5 s).
        expect(metrics!.identity.idf1).toBeGreaterThanOrEqual(0.7);
      },
      TIMEOUT_MS,
    );
  }

  it(
    'horsejump-high: one horse (the rider is no second horse)',
    async () => {
      const { result, metrics } = await runClip('horsejump-high', 5);
      expect(result.horsesRegistered).toBe(1);
      expect(metrics!.identity.idf1).toBeGreaterThanOrEqual(0.85);
    },
    TIMEOUT_MS,
  );

  it(
    'rider-monument: one horse, the cowboy never a horse',
    async () => {
      const { result } = await runClip('rider-monument', 5);
      expect(result.horsesRegistered).toBe(1);
    },
    TIMEOUT_MS,
  );
});
