/**
 * Identity on real camera footage (../shared/data/real), through the real pipeline with the
 * shared YOLOX-nano detector and OSNet embedder (their shipped, calibrated configs): the floors
 * the clips' ground truth and README set; and a guard on YOLO11n-640 (an AGPL test asset, its
 * config under test/fixtures). See `npm run bench -- real` for every pair and chunk length.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutClip, groundTruthOf, photoClips, REAL_DIR, runRealChunks, sampledFrames, scoreOnAnnotatedFrames, sourceFpsOf, YOLO11N_OSNET, YOLOX_OSNET, type ModelPair } from './real-clips.ts';

const TIMEOUT_MS = 300_000;

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'paddock-real-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function runClip(name: string, chunkS: number, pair: ModelPair = YOLOX_OSNET) {
  const clipDir = path.join(REAL_DIR, name);
  const clip = path.join(clipDir, 'clip.mp4');
  const { fps, durationS } = await sourceFpsOf(clip);
  const files = await cutClip(clip, chunkS, path.join(root, `${name}-${chunkS}s`));
  const result = await runRealChunks(files, path.join(root, `${name}-${chunkS}s-${pair.detector}-data`), pair, fps);
  const gt = await groundTruthOf(clipDir);
  return { result, metrics: gt === null ? null : scoreOnAnnotatedFrames(gt, result.rows, sampledFrames(durationS, fps)) };
}

describe('identity on real footage (YOLOX-nano + OSNet)', () => {
  for (const chunkS of [5, 10]) {
    it(
      `paddock-2horses in ${chunkS} s chunks: exactly 2 horses, IDF1 ≥ 0.80`,
      async () => {
        const { result, metrics } = await runClip('paddock-2horses', chunkS);
        expect(result.horsesRegistered).toBe(2);
        // Measured 0.811 at 5 s and 10 s; 0.770 when a box over both horses was reported whole for
        // the one it matched, 0.752 when a gap after a box at the frame's edge was interpolated
        // too, 0.735 / 0.730 without interpolated gaps, 0.719 / 0.713 without camera motion either.
        expect(metrics!.identity.idf1).toBeGreaterThanOrEqual(0.8);
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

describe('identity on real footage with YOLO11n-640 + OSNet (an AGPL test asset, never shipped)', () => {
  for (const chunkS of [5, 10]) {
    it(
      `paddock-2horses in ${chunkS} s chunks: exactly 2 horses, IDF1 ≥ 0.80`,
      async () => {
        const { result, metrics } = await runClip('paddock-2horses', chunkS, YOLO11N_OSNET);
        // Measured 0.808 (5 s) / 0.806 (10 s); 0.775 at 10 s while a box over both horses was
        // reported whole for the one it matched. The black horse, seen only as a piece beside the
        // chestnut, is swallowed by a box over both for 3 s and steps out on the other side
        // looking unlike its piece (cosine 0.58): it keeps its ID as the horse leaving the group
        // (before 2026-12-03 it came back as a third horse).
        expect(metrics!.identity.idf1).toBeGreaterThanOrEqual(0.8);
        expect(result.horsesRegistered).toBe(2);
      },
      TIMEOUT_MS,
    );
  }
});

describe('a real photo as a still and as a pan (YOLOX-nano + OSNet)', () => {
  it(
    'the 2 s still: all 4 horses the detector sees are reported (decided or provisional)',
    async () => {
      const { still } = await photoClips(path.join(root, 'photo'));
      const result = await runRealChunks([still], path.join(root, 'still-data'), YOLOX_OSNET, 25);
      const reported = result.chunks[0]!.result.horses;
      expect(reported.length).toBeGreaterThanOrEqual(4);
      expect(reported.every((horse) => horse.detections >= 5)).toBe(true);
    },
    TIMEOUT_MS,
  );

  for (const chunkS of [2, 4]) {
    it(
      `the pan there and back in ${chunkS} s chunks: all 4 horses registered, those seen at the start come back with the same IDs`,
      async () => {
        const { pan } = await photoClips(path.join(root, 'photo'));
        const files = await cutClip(pan, chunkS, path.join(root, `pan-${chunkS}s`));
        const result = await runRealChunks(files, path.join(root, `pan-${chunkS}s-data`), YOLOX_OSNET, 25);
        const idsIn = (from: number, to: number) => [...new Set(result.rows.filter((row) => row.frame >= from && row.frame <= to).map((row) => row.id))].sort();
        // The same view: the first and the last second of the 8 s pan (25 fps).
        // The 4th, a brown horse behind the white one at the frame's edge, is only ever seen in
        // pieces: it becomes a horse after twice newHorseMaxWaitS, and its earlier rows join it.
        expect(idsIn(1, 25).length).toBe(4);
        expect(idsIn(176, 200)).toEqual(idsIn(1, 25));
        expect(result.horsesRegistered).toBe(4);
      },
      TIMEOUT_MS,
    );
  }
});
