import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildProjectModels } from '../../models/build.ts';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { createDetector } from '../../src/inference/index.ts';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import type { Box } from '../../src/tracking/types.ts';
import { resolveFfmpegPath } from '../../src/video/ffmpeg-path.ts';
import { boxIou } from '../models/letterbox-check.ts';

const run = promisify(execFile);
const directories: string[] = [];
afterAll(async () => {
  await Promise.all(directories.map((directory) => rm(directory, { recursive: true, force: true })));
});

async function temporaryDirectory(): Promise<string> {
  const directory = await mkdtemp(path.join(os.tmpdir(), 'paddock-synth-'));
  directories.push(directory);
  return directory;
}

async function decodeAll(file: string, width: number, height: number): Promise<Buffer[]> {
  const { stdout } = await run(resolveFfmpegPath({}), ['-loglevel', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 1 << 30,
  });
  const size = width * height * 3;
  return Array.from({ length: stdout.length / size }, (_, index) => stdout.subarray(index * size, (index + 1) * size));
}

interface GtRow {
  frame: number;
  id: number;
  box: Box;
  visibility: number;
}

async function readGroundTruth(gtPath: string, visibilityPath: string): Promise<GtRow[]> {
  const gt = (await readFile(gtPath, 'utf8')).trim().split('\n');
  const visibility = (await readFile(visibilityPath, 'utf8')).trim().split('\n');
  expect(visibility).toHaveLength(gt.length);
  return gt.map((line, index) => {
    const fields = line.split(',');
    expect(fields).toHaveLength(10);
    expect(fields.slice(6)).toEqual(['1', '-1', '-1', '-1']);
    const [frame, id, x, y, w, h] = fields.map(Number) as [number, number, number, number, number, number];
    const [visFrame, visId, vis] = (visibility[index] as string).split(',').map(Number) as [number, number, number];
    expect([visFrame, visId]).toEqual([frame, id]);
    return { frame, id, box: { x, y, w, h }, visibility: vis };
  });
}

describe('writeSyntheticStream', () => {
  it('writes F frames/s H.264 chunks and ground truth numbered across the whole stream, the same for the same seed', async () => {
    const options = { horses: 3, chunks: 2, secondsPerChunk: 2, fps: 5, seed: 8 };
    const first = await writeSyntheticStream({ outDir: await temporaryDirectory(), ...options });
    const second = await writeSyntheticStream({ outDir: await temporaryDirectory(), ...options });
    const other = await writeSyntheticStream({ outDir: await temporaryDirectory(), ...options, seed: 9 });

    expect(first.chunks.map((chunk) => path.basename(chunk))).toEqual(['chunk_0001.mp4', 'chunk_0002.mp4']);
    expect(first.chunkStartS).toEqual([0, 2]);
    for (const chunk of first.chunks) expect(await decodeAll(chunk, 640, 360)).toHaveLength(10);
    const rows = await readGroundTruth(first.gtPath, first.visibilityPath);
    const frames = new Set(rows.map((row) => row.frame));
    expect(Math.min(...frames)).toBe(1);
    expect(Math.max(...frames)).toBe(20);
    expect(new Set(rows.map((row) => row.id))).toEqual(new Set([1, 2, 3]));

    expect(await readFile(second.gtPath, 'utf8')).toBe(await readFile(first.gtPath, 'utf8'));
    expect(await readFile(second.chunks[1] as string)).toEqual(await readFile(first.chunks[1] as string));
    expect(await readFile(other.gtPath, 'utf8')).not.toBe(await readFile(first.gtPath, 'utf8'));
    const scene = JSON.parse(await readFile(first.scenePath, 'utf8')) as { horses: unknown[]; framesPerChunk: number };
    expect(scene.horses).toHaveLength(3);
    expect(scene.framesPerChunk).toBe(10);
  });

  it('survives H.264: the project detector, through src/inference and its config, finds the horses of gt.txt', async () => {
    const models = await buildProjectModels(path.join(PROJECT_ROOT, 'models', 'build'));
    const stream = await writeSyntheticStream({ outDir: await temporaryDirectory(), chunks: 1, secondsPerChunk: 4, seed: 31 });
    const rows = await readGroundTruth(stream.gtPath, stream.visibilityPath);
    const detector = await createDetector({ modelPath: models.detector, executionProviders: ['cpu'], intraOpThreads: 1, interOpThreads: 1 });
    try {
      const frames = await decodeAll(stream.chunks[0] as string, 640, 360);
      expect(frames).toHaveLength(40);
      let hits = 0;
      let total = 0;
      for (let index = 0; index < frames.length; index += 2) {
        const detections = await detector.detect({ width: 640, height: 360, data: frames[index] as Buffer });
        for (const row of rows) {
          if (row.frame !== index + 1 || row.visibility < 0.8) continue;
          total++;
          if (detections.some((detection) => boxIou(detection.box, row.box) >= 0.5)) hits++;
        }
      }
      expect(total).toBeGreaterThan(30);
      expect(hits / total).toBeGreaterThanOrEqual(0.95);
    } finally {
      await detector.release();
    }
  });
});

describe('writeSyntheticStream failures', () => {
  it('names a missing ffmpeg (FFMPEG_MISSING)', async () => {
    const outDir = await temporaryDirectory();
    await expect(writeSyntheticStream({ outDir, chunks: 1, secondsPerChunk: 1, ffmpegPath: '/nonexistent/ffmpeg' })).rejects.toMatchObject({
      code: 'FFMPEG_MISSING',
    });
  });

  it('reports an encoder that fails (VIDEO_ENCODE_FAILED)', async () => {
    const outDir = await temporaryDirectory();
    await expect(writeSyntheticStream({ outDir, chunks: 1, secondsPerChunk: 1, ffmpegPath: '/bin/false' })).rejects.toMatchObject({
      code: 'VIDEO_ENCODE_FAILED',
    });
  });
});

describe('paddock synth', () => {
  const cli = path.join(PROJECT_ROOT, 'bin', 'paddock.mjs');

  it('writes the chunks and gt.txt and lists them', async () => {
    const out = await temporaryDirectory();
    const { stdout } = await run(process.execPath, [cli, 'synth', '--out', out, '--horses', '2', '--chunks', '2', '--seconds', '1', '--fps', '4', '--seed', '5', '--hard'], {
      cwd: PROJECT_ROOT,
    });
    const lines = stdout.trim().split('\n');
    expect(lines.slice(0, 3)).toEqual([path.join(out, 'chunk_0001.mp4'), path.join(out, 'chunk_0002.mp4'), path.join(out, 'gt.txt')]);
    const frames = new Set((await readFile(path.join(out, 'gt.txt'), 'utf8')).trim().split('\n').map((line) => Number(line.split(',')[0])));
    expect([...frames].every((frame) => frame >= 1 && frame <= 8)).toBe(true);
  });

  it('exits 2 with one line naming the bad option', async () => {
    const failure = await run(process.execPath, [cli, 'synth', '--out', os.tmpdir(), '--horses', 'many'], { cwd: PROJECT_ROOT }).catch((error: unknown) => error);
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr.trim()).toBe('paddock: --horses must be an integer, got "many"');
  });
});
