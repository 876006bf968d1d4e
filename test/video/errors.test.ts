import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaddockError } from '../../src/errors/index.ts';
import { decodeChunk, resolveFfmpegPath, type DecodedFrame, type DecodeOptions } from '../../src/video/index.ts';
import { dropTsPid, makeTempDir, makeTestsrc, makeVideo } from './fixtures.ts';

const OPTIONS: DecodeOptions = { sampleFps: 5, maxWidth: 160, maxHeight: 160, timeoutMs: 20_000 };

/** Drains a chunk; returns the frames it yielded and the error it ended with, if any. */
async function drain(uri: string, options: DecodeOptions = OPTIONS): Promise<{ frames: DecodedFrame[]; error: PaddockError | undefined }> {
  const frames: DecodedFrame[] = [];
  try {
    for await (const frame of decodeChunk(uri, 'chunk-42', options)) frames.push(frame);
  } catch (error) {
    if (!(error instanceof PaddockError)) throw error;
    return { frames, error };
  }
  return { frames, error: undefined };
}

function expectChunkError(error: PaddockError | undefined, code: string, uri: string): PaddockError {
  expect(error).toBeInstanceOf(PaddockError);
  expect(error?.code).toBe(code);
  expect(error?.message).toContain('chunk-42');
  expect(error?.message).toContain(uri);
  expect(error?.details).toMatchObject({ chunkId: 'chunk-42', uri });
  return error as PaddockError;
}

describe('decodeChunk errors', () => {
  let dir: string;
  let faststart: string; // 4 s at 25 fps, index at the front, so a truncated copy still opens

  beforeAll(async () => {
    dir = await makeTempDir();
    faststart = await makeTestsrc(dir, 'whole.mp4', { width: 320, height: 240, fps: 25, seconds: 4, extra: ['-g', '10', '-movflags', '+faststart'] });
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('VIDEO_MISSING for a file that does not exist', async () => {
    const uri = path.join(dir, 'nope.mp4');
    const { frames, error } = await drain(uri);
    expect(frames).toHaveLength(0);
    expectChunkError(error, 'VIDEO_MISSING', uri);
  });

  it('VIDEO_INVALID for a file that is not a video', async () => {
    const uri = path.join(dir, 'notes.mp4');
    await fs.writeFile(uri, 'these are not the frames you are looking for\n');
    expectChunkError((await drain(uri)).error, 'VIDEO_INVALID', uri);
  });

  it('VIDEO_INVALID for a media file without a video stream', async () => {
    const uri = await makeVideo(dir, 'sound.m4a', ['-f', 'lavfi', '-i', 'sine=duration=1']);
    expectChunkError((await drain(uri)).error, 'VIDEO_INVALID', uri);
  });

  it('VIDEO_EMPTY for a video stream with zero frames', async () => {
    const withVideo = await makeVideo(dir, 'av.ts', [
      '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=1', '-f', 'lavfi', '-i', 'sine=duration=1',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac',
    ]);
    const uri = path.join(dir, 'no-frames.ts');
    await dropTsPid(withVideo, uri, 0x100); // ffmpeg's default video PID: the PMT still declares the stream
    const { frames, error } = await drain(uri);
    expect(frames).toHaveLength(0);
    expectChunkError(error, 'VIDEO_EMPTY', uri);
  });

  it('VIDEO_CORRUPT after yielding the frames before a truncation', async () => {
    const whole = await fs.readFile(faststart);
    const uri = path.join(dir, 'truncated.mp4');
    await fs.writeFile(uri, whole.subarray(0, Math.floor(whole.length / 2)));
    const { frames, error } = await drain(uri);
    expect(frames.length).toBeGreaterThan(3);
    expect(frames.length).toBeLessThan(20);
    frames.forEach((frame, i) => expect(frame.timestampS).toBeCloseTo(i * 0.2, 6));
    expect(expectChunkError(error, 'VIDEO_CORRUPT', uri).details.framesDecoded).toBe(frames.length);
  });

  it('VIDEO_CORRUPT when the middle of the file is garbage', async () => {
    const bytes = Buffer.from(await fs.readFile(faststart));
    for (let i = Math.floor(bytes.length / 2); i < Math.floor(bytes.length / 2) + 20_000; i += 1) bytes[i] = (i * 7919) & 0xff;
    const uri = path.join(dir, 'garbled.mp4');
    await fs.writeFile(uri, bytes);
    const { frames, error } = await drain(uri);
    expect(frames.length).toBeGreaterThan(0);
    expect(expectChunkError(error, 'VIDEO_CORRUPT', uri).details.framesDecoded).toBe(frames.length);
  });

  it('FFMPEG_MISSING when the configured ffmpeg does not exist', async () => {
    const uri = faststart;
    const { error } = await drain(uri, { ...OPTIONS, ffmpegPath: path.join(dir, 'no-such-ffmpeg') });
    expectChunkError(error, 'FFMPEG_MISSING', uri);
  });

  it('refuses invalid options with CONFIG_INVALID', async () => {
    const { error } = await drain(faststart, { ...OPTIONS, sampleFps: 0 });
    expect(error?.code).toBe('CONFIG_INVALID');
  });
});

describe('resolveFfmpegPath', () => {
  it('prefers the configured binary, then PATH, then the bundled one', async () => {
    const dir = await makeTempDir();
    try {
      const fake = path.join(dir, 'ffmpeg');
      await fs.writeFile(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
      expect(resolveFfmpegPath({ ffmpegPath: fake }, '')).toBe(fake);
      expect(resolveFfmpegPath({}, dir)).toBe(fake);
      const bundled = resolveFfmpegPath({}, '');
      expect(bundled).toContain('@ffmpeg-installer');
      expect((await fs.stat(bundled)).isFile()).toBe(true);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('throws FFMPEG_MISSING for a configured path that is not executable', () => {
    expect(() => resolveFfmpegPath({ ffmpegPath: '/nonexistent/ffmpeg' })).toThrow(expect.objectContaining({ code: 'FFMPEG_MISSING' }));
  });
});

describe('the bundled fallback ffmpeg', () => {
  it('decodes the same frames', async () => {
    const dir = await makeTempDir();
    try {
      const uri = await makeTestsrc(dir, 'small.mp4', { width: 160, height: 120, fps: 10, seconds: 1 });
      const { frames, error } = await drain(uri, { ...OPTIONS, ffmpegPath: resolveFfmpegPath({}, '') });
      expect(error).toBeUndefined();
      expect(frames.map((f) => f.timestampS)).toEqual([0, 0.2, 0.4, 0.6, 0.8]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
