/**
 * Decode and thumbnail throughput for one 10 s chunk sampled at 5 fps.
 *
 * ours: ffmpeg samples and scales (to fit 640x640, and to fit 416x416 for a 416 detector) and
 * writes RGB24 at the target size. baseline: ffmpeg writes full-resolution RGB24 and a plain JS
 * bilinear loop resizes each frame. Both read the same 1280x720 chunk, so the ratio is fair; the
 * 640x360 chunk shows the common camera-sized case.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cropForThumbnail, encodeThumbnail } from '../src/thumbnails/index.ts';
import { decodeChunk, resolveFfmpegPath, type DecodedFrame, type DecodeOptions } from '../src/video/index.ts';
import { summarize } from './stats.ts';

const CHUNK_SECONDS = 10;
const SOURCE_FPS = 25;
const SAMPLE_FPS = 5;
const RUNS = 4;
const THUMBNAILS = 100;
const HORSES_PER_CHUNK = 5;

async function makeChunk(dir: string, width: number, height: number): Promise<string> {
  const output = path.join(dir, `chunk-${width}x${height}.mp4`);
  await promisify(execFile)(resolveFfmpegPath({}), [
    '-hide_banner', '-loglevel', 'error', '-nostdin', '-y',
    '-f', 'lavfi', '-i', `testsrc2=size=${width}x${height}:rate=${SOURCE_FPS}:duration=${CHUNK_SECONDS}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', output,
  ]);
  return output;
}

/** Plain JS bilinear resize of packed RGB24 (half-pixel centres), the baseline for ffmpeg's scaler. */
function resizeBilinear(frame: DecodedFrame, outWidth: number, outHeight: number): Buffer {
  const { width, height, data } = frame;
  const out = Buffer.allocUnsafe(outWidth * outHeight * 3);
  const scaleX = width / outWidth;
  const scaleY = height / outHeight;
  for (let y = 0; y < outHeight; y += 1) {
    const sy = Math.min(height - 1, Math.max(0, (y + 0.5) * scaleY - 0.5));
    const y0 = Math.floor(sy);
    const y1 = Math.min(height - 1, y0 + 1);
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x += 1) {
      const sx = Math.min(width - 1, Math.max(0, (x + 0.5) * scaleX - 0.5));
      const x0 = Math.floor(sx);
      const x1 = Math.min(width - 1, x0 + 1);
      const fx = sx - x0;
      const a = (y0 * width + x0) * 3;
      const b = (y0 * width + x1) * 3;
      const c = (y1 * width + x0) * 3;
      const d = (y1 * width + x1) * 3;
      const o = (y * outWidth + x) * 3;
      for (let ch = 0; ch < 3; ch += 1) {
        const top = (data[a + ch] ?? 0) + ((data[b + ch] ?? 0) - (data[a + ch] ?? 0)) * fx;
        const bottom = (data[c + ch] ?? 0) + ((data[d + ch] ?? 0) - (data[c + ch] ?? 0)) * fx;
        out[o + ch] = top + (bottom - top) * fy + 0.5;
      }
    }
  }
  return out;
}

interface CaseResult {
  frameMs: number[];
  chunkMs: number[];
  /** CPU time of this Node process per chunk: what competes with inference on the event loop. */
  nodeCpuMs: number[];
  size: string;
}

function emptyResult(): CaseResult {
  return { frameMs: [], chunkMs: [], nodeCpuMs: [], size: '' };
}

/** Decodes the chunk once into `into`; per-frame times are the gaps between delivered (and resized) frames. */
async function measureOnce(into: CaseResult, uri: string, options: DecodeOptions, resizeTo?: { width: number; height: number }): Promise<void> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let last = started;
  for await (const frame of decodeChunk(uri, 'bench', options)) {
    let width = frame.width;
    let height = frame.height;
    if (resizeTo !== undefined) {
      const resized = resizeBilinear(frame, resizeTo.width, resizeTo.height);
      if (resized.length !== resizeTo.width * resizeTo.height * 3) throw new Error('resize produced the wrong size');
      ({ width, height } = resizeTo);
    }
    into.size = `${width}x${height}`;
    const now = performance.now();
    into.frameMs.push(now - last);
    last = now;
  }
  into.chunkMs.push(performance.now() - started);
  const cpu = process.cpuUsage(cpuBefore);
  into.nodeCpuMs.push((cpu.user + cpu.system) / 1000);
}

const mean = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

function report(label: string, result: CaseResult): { chunkMs: number; nodeCpuMs: number } {
  const chunkMs = mean(result.chunkMs);
  const nodeCpuMs = mean(result.nodeCpuMs);
  summarize(`${label} -> ${result.size} (per frame)`, result.frameMs);
  console.log(
    `${''.padEnd(4)}real-time factor ${(CHUNK_SECONDS / (chunkMs / 1000)).toFixed(1)}x  (${chunkMs.toFixed(0)} ms per ${CHUNK_SECONDS} s chunk, node CPU ${nodeCpuMs.toFixed(0)} ms)`,
  );
  return { chunkMs, nodeCpuMs };
}

export async function run(): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'paddock-bench-decode-'));
  try {
    const [chunk360, chunk720] = await Promise.all([makeChunk(dir, 640, 360), makeChunk(dir, 1280, 720)]);
    const base: DecodeOptions = { sampleFps: SAMPLE_FPS, timeoutMs: 60_000 };
    console.log(`${CHUNK_SECONDS} s H.264 chunks at ${SOURCE_FPS} fps, sampled at ${SAMPLE_FPS} fps, ${RUNS} runs each; ffmpeg ${resolveFfmpegPath({})}`);

    const fit640 = { ...base, maxWidth: 640, maxHeight: 640 };
    const fit416 = { ...base, maxWidth: 416, maxHeight: 416 };
    const cases = {
      small640: emptyResult(),
      small416: emptyResult(),
      ours640: emptyResult(),
      ours416: emptyResult(),
      baseline640: emptyResult(),
      baseline416: emptyResult(),
    };
    // Interleaved, so load changes on a shared machine hit ours and the baseline alike.
    for (let run = 0; run < RUNS; run += 1) {
      await measureOnce(cases.small640, chunk360, fit640);
      await measureOnce(cases.small416, chunk360, fit416);
      await measureOnce(cases.ours640, chunk720, fit640);
      await measureOnce(cases.baseline640, chunk720, base, { width: 640, height: 360 });
      await measureOnce(cases.ours416, chunk720, fit416);
      await measureOnce(cases.baseline416, chunk720, base, { width: 416, height: 234 });
    }
    report('640x360 ours fit 640', cases.small640);
    report('640x360 ours fit 416', cases.small416);
    const ours640 = report('1280x720 ours (ffmpeg scales) fit 640', cases.ours640);
    const baseline640 = report('1280x720 baseline full-res + JS bilinear 640', cases.baseline640);
    const ours416 = report('1280x720 ours (ffmpeg scales) fit 416', cases.ours416);
    const baseline416 = report('1280x720 baseline full-res + JS bilinear 416', cases.baseline416);
    for (const [target, ours, baseline] of [
      ['640x360', ours640, baseline640],
      ['416x234', ours416, baseline416],
    ] as const) {
      console.log(
        `baseline/ours to ${target}: chunk time ${(baseline.chunkMs / ours.chunkMs).toFixed(2)}x, node CPU ${(baseline.nodeCpuMs / ours.nodeCpuMs).toFixed(2)}x`,
      );
    }

    const frames: DecodedFrame[] = [];
    for await (const frame of decodeChunk(chunk360, 'bench', { ...base, maxWidth: 640, maxHeight: 640 })) frames.push(frame);
    const thumbnailMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < THUMBNAILS; i += 1) {
      const frame = frames[i % frames.length] as DecodedFrame;
      const box = { x: 40 + (i % 7) * 60, y: 30 + (i % 5) * 40, w: 160, h: 120 };
      const started = performance.now();
      const jpeg = await encodeThumbnail(cropForThumbnail(frame, box, 1));
      thumbnailMs.push(performance.now() - started);
      bytes += jpeg.length;
    }
    const thumbnails = summarize('thumbnail crop + encode (176x144 crop)', thumbnailMs);
    const perChunkMs = thumbnails.mean * HORSES_PER_CHUNK;
    console.log(
      `${''.padEnd(4)}mean ${(bytes / THUMBNAILS / 1024).toFixed(1)} KB; real-time factor ${(CHUNK_SECONDS / (perChunkMs / 1000)).toFixed(0)}x at ${HORSES_PER_CHUNK} horses per chunk`,
    );
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
