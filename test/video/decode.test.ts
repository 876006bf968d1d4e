import fs from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeChunk, meanAbsoluteDifference, MOTION_THUMBNAIL, probeVideo, type DecodedFrame, type DecodeOptions } from '../../src/video/index.ts';
import { makeTempDir, makeTestsrc, makeVideo } from './fixtures.ts';

const OPTIONS: DecodeOptions = { sampleFps: 5, timeoutMs: 20_000 };

async function collect(uri: string, options: DecodeOptions = OPTIONS): Promise<DecodedFrame[]> {
  const frames: DecodedFrame[] = [];
  for await (const frame of decodeChunk(uri, 'chunk-test', options)) frames.push(frame);
  return frames;
}

/** Timestamps of the first frame in each 1/sampleFps slot of a constant-rate video. */
function expectedSampleTimes(videoFps: number, frameCount: number, sampleFps: number): number[] {
  const times: number[] = [];
  let lastSlot = -1;
  for (let n = 0; n < frameCount; n += 1) {
    const t = n / videoFps;
    const slot = Math.floor(t * sampleFps + 1e-6);
    if (slot > lastSlot) {
      times.push(t);
      lastSlot = slot;
    }
  }
  return times;
}

describe('decodeChunk with a duration bound', () => {
  it('reads no further than maxDurationS of a longer file', async () => {
    const dir = await makeTempDir();
    const long = await makeTestsrc(dir, 'long.mp4', { width: 160, height: 120, fps: 10, seconds: 12 });
    const all = await collect(long, { ...OPTIONS, sampleFps: 2 });
    const bounded = await collect(long, { ...OPTIONS, sampleFps: 2, maxDurationS: 3 });
    expect(all.at(-1)!.timestampS).toBeGreaterThan(11);
    expect(bounded.length).toBeGreaterThan(0);
    expect(bounded.at(-1)!.timestampS).toBeLessThan(3);
    expect(bounded.length).toBeLessThanOrEqual(6);
  });
});

describe('decodeChunk with motion thumbnails', () => {
  it('pairs every frame with its small grey copy from ffmpeg: unchanged for a still picture, changed for a moving one', async () => {
    const dir = await makeTempDir();
    const [still, moving] = await Promise.all([
      makeVideo(dir, 'still.mp4', ['-f', 'lavfi', '-i', 'color=c=0x406080:size=320x240:rate=10:duration=2', '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p']),
      makeTestsrc(dir, 'moving.mp4', { width: 320, height: 240, fps: 10, seconds: 2 }),
    ]);
    const options = { ...OPTIONS, motionThumbnail: true, maxWidth: 160, maxHeight: 160 };
    const stillFrames = await collect(still, options);
    const movingFrames = await collect(moving, options);
    for (const frames of [stillFrames, movingFrames]) {
      expect(frames).toHaveLength(10);
      for (const frame of frames) {
        expect(frame.data.length).toBe(160 * 120 * 3);
        expect(frame.motionThumbnail?.length).toBe(MOTION_THUMBNAIL.width * MOTION_THUMBNAIL.height);
      }
    }
    const changes = (frames: DecodedFrame[]) => frames.slice(1).map((frame, i) => meanAbsoluteDifference(frames[i]!.motionThumbnail!, frame.motionThumbnail!));
    expect(Math.max(...changes(stillFrames))).toBeLessThan(0.5);
    // The grey copy is of the picture itself: a mid-grey-blue, not black.
    expect(stillFrames[0]!.motionThumbnail!.every((grey) => grey > 40 && grey < 140)).toBe(true);
    expect(Math.min(...changes(movingFrames))).toBeGreaterThan(0.5);
    // Without the option, no copy and the same RGB frames.
    const plain = await collect(moving, { ...OPTIONS, maxWidth: 160, maxHeight: 160 });
    expect(plain.every((frame) => frame.motionThumbnail === undefined)).toBe(true);
    expect(plain.map((frame) => frame.data.equals(movingFrames[frame.index]!.data))).toEqual(plain.map(() => true));
    await fs.rm(dir, { recursive: true, force: true });
  });
});

describe('decodeChunk with motion thumbnails under load', () => {
  it('never stalls when ffmpeg writes RGB frames ahead of their grey copies: 8 slow consumers at once, 4 rounds', async () => {
    const dir = await makeTempDir();
    const video = await makeTestsrc(dir, 'moving.mp4', { width: 320, height: 180, fps: 10, seconds: 2 });
    const options = { ...OPTIONS, motionThumbnail: true, timeoutMs: 4000, maxWidth: 960, maxHeight: 960 };
    // Consumers taking 0–60 ms per frame (inference) pause stdout at random moments: before the
    // fix, about one decode in 16 waited for a grey copy that ffmpeg, blocked on stdout, never wrote.
    let seed = 17;
    const delay = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return Math.floor((seed / 2_147_483_648) * 60);
    };
    const counts: number[] = [];
    for (let round = 0; round < 4; round += 1) {
      counts.push(...(await Promise.all(Array.from({ length: 8 }, async () => {
        let frames = 0;
        for await (const frame of decodeChunk(video, 'load-test', options)) {
          expect(frame.motionThumbnail?.length).toBe(MOTION_THUMBNAIL.width * MOTION_THUMBNAIL.height);
          frames += 1;
          await new Promise((resolve) => setTimeout(resolve, delay()));
        }
        return frames;
      }))));
    }
    expect(counts).toEqual(counts.map(() => 10));
    await fs.rm(dir, { recursive: true, force: true });
  }, 120_000);
});

describe('decodeChunk', () => {
  let dir: string;
  let landscape: string; // 640x480, 25 fps, 2 s
  let film: string; // 24 fps, 2 s: the sample rate does not divide the frame rate
  let delayed: string; // MPEG-TS whose video starts well after 0 (non-zero start pts) and after its audio

  beforeAll(async () => {
    dir = await makeTempDir();
    [landscape, film, delayed] = await Promise.all([
      makeTestsrc(dir, 'landscape.mp4', { width: 640, height: 480, fps: 25, seconds: 2 }),
      makeTestsrc(dir, 'film.mp4', { width: 320, height: 240, fps: 24, seconds: 2 }),
      makeVideo(dir, 'delayed.ts', [
        '-f', 'lavfi', '-i', 'sine=duration=3',
        '-itsoffset', '1.5', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=10:duration=2',
        '-map', '0:a', '-map', '1:v', '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac',
      ]),
    ]);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('yields the sampled frames in order as RGB24 scaled by ffmpeg to fit the box', async () => {
    const frames = await collect(landscape, { ...OPTIONS, maxWidth: 320, maxHeight: 320 });
    expect(frames).toHaveLength(10);
    frames.forEach((frame, i) => {
      expect(frame.index).toBe(i);
      expect(frame.timestampS).toBeCloseTo(i * 0.2, 6);
      expect([frame.width, frame.height]).toEqual([320, 240]);
      expect(frame.data.length).toBe(320 * 240 * 3);
    });
    // testsrc draws a moving frame counter: consecutive samples differ, and they are not blank.
    expect(frames[0]?.data.equals(frames[1]?.data ?? Buffer.alloc(0))).toBe(false);
    expect(frames[0]?.data.some((byte) => byte > 0)).toBe(true);
  });

  it('never upscales and keeps the aspect ratio when only one side is bounded', async () => {
    const unscaled = await collect(landscape, { ...OPTIONS, sampleFps: 1, maxWidth: 1920, maxHeight: 1920 });
    expect(unscaled.map((f) => [f.width, f.height])).toEqual([
      [640, 480],
      [640, 480],
    ]);
    const narrow = await collect(landscape, { ...OPTIONS, sampleFps: 1, maxWidth: 200 });
    expect(narrow.map((f) => [f.width, f.height])).toEqual([
      [200, 150],
      [200, 150],
    ]);
    const portraitBox = await collect(landscape, { ...OPTIONS, sampleFps: 1, maxWidth: 416, maxHeight: 416 });
    expect(portraitBox[0]).toMatchObject({ width: 416, height: 312 });
  });

  it('stamps frames with their real presentation time when the video rate differs from the sample rate', async () => {
    const frames = await collect(film);
    const expected = expectedSampleTimes(24, 48, 5);
    expect(frames.map((f) => f.timestampS)).toHaveLength(expected.length);
    frames.forEach((frame, i) => expect(frame.timestampS).toBeCloseTo(expected[i] ?? Number.NaN, 6));
    // 5/24 s, not index/sampleFps = 0.2 s
    expect(frames[1]?.timestampS).toBeCloseTo(5 / 24, 6);
  });

  it('counts time from the chunk’s first frame when the stream does not start at pts 0', async () => {
    const frames = await collect(delayed);
    expect(frames).toHaveLength(10);
    frames.forEach((frame, i) => expect(frame.timestampS).toBeCloseTo(i * 0.2, 6));
  });

  it('takes every frame when the sample rate is at least the video rate', async () => {
    const frames = await collect(film, { ...OPTIONS, sampleFps: 30, maxWidth: 64 });
    expect(frames).toHaveLength(48);
    expect(frames[47]?.timestampS).toBeCloseTo(47 / 24, 6);
  });

  it('accepts file:// URLs', async () => {
    const frames = await collect(new URL(`file://${landscape}`).href, { ...OPTIONS, sampleFps: 1, maxWidth: 64 });
    expect(frames).toHaveLength(2);
  });

  it('probes size, frame rate and duration', async () => {
    expect(await probeVideo(landscape, 'chunk-test', OPTIONS)).toEqual({ width: 640, height: 480, fps: 25, durationS: 2, codec: 'h264' });
    expect(await probeVideo(film, 'chunk-test', OPTIONS)).toMatchObject({ width: 320, height: 240, fps: 24 });
    expect(await probeVideo(delayed, 'chunk-test', OPTIONS)).toMatchObject({ width: 160, height: 120, fps: 10 });
    const text = `${dir}/text.mp4`;
    await fs.writeFile(text, 'not a video');
    await expect(probeVideo(text, 'chunk-test', OPTIONS)).rejects.toMatchObject({ code: 'VIDEO_INVALID' });
    await expect(probeVideo(`${dir}/absent.mp4`, 'chunk-test', OPTIONS)).rejects.toMatchObject({ code: 'VIDEO_MISSING' });
  });
});
