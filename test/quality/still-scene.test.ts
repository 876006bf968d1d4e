/**
 * Motion gating and ReID on demand on a still scene (5 grazing horses, 2 × 10 s at 10 fps)
 * through the real pipeline: most frames skip the detector and most detections skip the
 * embedder, and the registry and the identities are those of running both on everything.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticStream, type SyntheticStream } from '../../src/synth/writer.ts';
import { processStream, scoreStream } from './stream-run.ts';

const TIMEOUT_MS = 240_000;

let root: string;
let stream: SyntheticStream;

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'paddock-still-'));
  stream = await writeSyntheticStream({ outDir: path.join(root, 'grazing'), seed: 4, grazing: true, chunks: 2 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('a still scene (grazing horses)', () => {
  it(
    'skips the detector on most frames and the embedder on most detections, with the same registry and identities',
    async () => {
      const everything = await processStream(stream, path.join(root, 'everything'), undefined, { PADDOCK_MOTION_THRESHOLD: '0', PADDOCK_REID_REFRESH_FRAMES: '0' });
      const gated = await processStream(stream, path.join(root, 'gated'));
      const work = (run: typeof gated) =>
        run.chunks.reduce(
          (sum, chunk) => ({
            detected: sum.detected + chunk.outcome.inference.framesDetected,
            held: sum.held + chunk.outcome.inference.framesHeld,
            embedded: sum.embedded + chunk.outcome.inference.embeddingsComputed,
            skipped: sum.skipped + chunk.outcome.inference.embeddingsSkipped,
          }),
          { detected: 0, held: 0, embedded: 0, skipped: 0 },
        );
      const full = work(everything);
      const saved = work(gated);
      expect(full.held).toBe(0);
      expect(full.skipped).toBe(0);
      expect(saved.detected + saved.held).toBe(full.detected);
      expect(saved.held).toBeGreaterThan(0.5 * full.detected);
      expect(saved.embedded).toBeLessThan(0.3 * full.embedded);

      const [before, after] = [await scoreStream(stream, everything), await scoreStream(stream, gated)];
      expect(after.horsesRegistered).toBe(5);
      expect(before.horsesRegistered).toBe(5);
      expect(after.consistency).toBe(1);
      expect(after.idf1).toBeGreaterThanOrEqual(0.95);
      expect(after.idf1).toBeGreaterThanOrEqual(before.idf1 - 0.01);
    },
    TIMEOUT_MS,
  );
});
