import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaddockError } from '../../src/errors/index.ts';
import { decodeChunk, resolveVideoInput, type DecodeOptions } from '../../src/video/index.ts';
import { isInternalAddress } from '../../src/video/http-fetch.ts';
import { checkedHttpUrl, hostAllowed, isInside } from '../../src/video/input-policy.ts';
import { makeTempDir, makeTestsrc } from './fixtures.ts';

async function errorOf(uri: string, options: DecodeOptions): Promise<PaddockError | undefined> {
  try {
    for await (const _frame of decodeChunk(uri, 'chunk-7', options)) {
      // drain
    }
  } catch (error) {
    if (error instanceof PaddockError) return error;
    throw error;
  }
  return undefined;
}

describe('input policy', () => {
  let root: string;
  let allowed: string;
  let outside: string;
  let video: string;
  let marker: string;
  let spyFfmpeg: string; // records that it ran: proves a refusal happened before ffmpeg started

  beforeAll(async () => {
    root = await makeTempDir('paddock-policy-');
    allowed = path.join(root, 'videos');
    outside = path.join(root, 'private');
    await Promise.all([fs.mkdir(allowed), fs.mkdir(outside), fs.mkdir(path.join(root, 'videos-evil'))]);
    video = await makeTestsrc(allowed, 'ok.mp4', { width: 160, height: 120, fps: 10, seconds: 1 });
    await fs.copyFile(video, path.join(outside, 'secret.mp4'));
    await fs.copyFile(video, path.join(root, 'videos-evil', 'x.mp4'));
    await fs.symlink(path.join(outside, 'secret.mp4'), path.join(allowed, 'link.mp4'));
    marker = path.join(root, 'ffmpeg-ran');
    spyFfmpeg = path.join(root, 'spy-ffmpeg');
    await fs.writeFile(spyFfmpeg, `#!/bin/sh\ntouch '${marker}'\nexit 1\n`, { mode: 0o755 });
  });

  afterAll(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  const refusedBeforeFfmpeg = async (uri: string, extra: Partial<DecodeOptions> = {}) => {
    const error = await errorOf(uri, { sampleFps: 5, timeoutMs: 5000, ffmpegPath: spyFfmpeg, ...extra });
    expect(error?.code).toBe('VIDEO_FORBIDDEN');
    expect(error?.message).toContain('chunk-7');
    await expect(fs.access(marker)).rejects.toThrow();
  };

  it.each([
    'concat:/etc/passwd|/etc/hosts',
    'subfile:,,start,0,end,0,,:/etc/passwd',
    'ftp://example.com/a.mp4',
    'rtsp://127.0.0.1/stream',
    'data:video/mp4;base64,AAAA',
    'pipe:0',
    'file://some-host/share/a.mp4',
    'http://',
    'https://user@/x.mp4',
    '',
  ])('refuses %j before ffmpeg starts', async (uri) => {
    await refusedBeforeFfmpeg(uri);
  });

  it('refuses paths outside the allowed directories, including via .., symlinks and look-alike prefixes', async () => {
    const allowedPaths = [allowed];
    await refusedBeforeFfmpeg(path.join(outside, 'secret.mp4'), { allowedPaths });
    await refusedBeforeFfmpeg(`${allowed}/../private/secret.mp4`, { allowedPaths });
    await refusedBeforeFfmpeg(path.join(allowed, 'link.mp4'), { allowedPaths });
    await refusedBeforeFfmpeg(path.join(root, 'videos-evil', 'x.mp4'), { allowedPaths });
    await refusedBeforeFfmpeg(new URL(`file://${path.join(outside, 'secret.mp4')}`).href, { allowedPaths });
    // Outside the allow-list even a missing file is "forbidden": existence is not revealed.
    await refusedBeforeFfmpeg(path.join(outside, 'missing.mp4'), { allowedPaths });
  });

  it('accepts an allowed path and reports a missing one inside it as VIDEO_MISSING', async () => {
    const input = await resolveVideoInput({ chunkId: 'c', uri: video }, { allowedPaths: [allowed] });
    expect(input).toMatchObject({ ffmpegInput: `file:${await fs.realpath(video)}`, protocols: ['file'] });
    await expect(resolveVideoInput({ chunkId: 'c', uri: path.join(allowed, 'gone.mp4') }, { allowedPaths: [allowed] })).rejects.toMatchObject({
      code: 'VIDEO_MISSING',
    });
    const frames: number[] = [];
    for await (const frame of decodeChunk(video, 'c', { sampleFps: 5, timeoutMs: 10_000, allowedPaths: [allowed] })) frames.push(frame.index);
    expect(frames).toEqual([0, 1, 2, 3, 4]);
  });

  it('refuses hosts outside the allowed hosts before ffmpeg starts', async () => {
    await refusedBeforeFfmpeg('http://evil.example.com/a.mp4', { allowedHosts: ['cams.example.com'] });
    await refusedBeforeFfmpeg('https://cams.example.com.evil.net/a.mp4', { allowedHosts: ['cams.example.com', '*.example.com'] });
  });

  it('normalises http(s) URLs before any fetch (ffmpeg itself only ever reads local files)', () => {
    expect(checkedHttpUrl({ chunkId: 'c', uri: 'HTTPS://Cams.Example.com:8443/a.mp4' }, {}).href).toBe('https://cams.example.com:8443/a.mp4');
    expect(() => checkedHttpUrl({ chunkId: 'c', uri: 'https://user@/x.mp4' }, {})).toThrow(expect.objectContaining({ code: 'VIDEO_FORBIDDEN' }));
  });

  it('tells internal addresses (refused without an allow-list) from public ones', () => {
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fd00::1', 'fe80::1', '::ffff:127.0.0.1']) {
      expect(isInternalAddress(address)).toBe(true);
    }
    for (const address of ['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700::1111']) expect(isInternalAddress(address)).toBe(false);
  });

  it('refuses playlists and concat lists that would make ffmpeg open other files', async () => {
    const playlist = path.join(allowed, 'list.m3u8');
    await fs.writeFile(playlist, `#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n${path.join(outside, 'secret.mp4')}\n#EXT-X-ENDLIST\n`);
    const disguised = path.join(allowed, 'list.mp4');
    await fs.writeFile(disguised, `ffconcat version 1.0\nfile ${path.join(outside, 'secret.mp4')}\n`);
    for (const uri of [playlist, disguised]) {
      const error = await errorOf(uri, { sampleFps: 5, timeoutMs: 10_000, allowedPaths: [allowed] });
      expect(error?.code).toBe('VIDEO_FORBIDDEN');
      expect(error?.details.framesDecoded).toBe(0);
    }
  });
});

describe('allow-list matching', () => {
  it('matches hosts exactly, with a port, or by *.domain', () => {
    const url = new URL('http://Cam1.Paddock.example:8080/x.mp4');
    expect(hostAllowed(url, ['cam1.paddock.example'])).toBe(true);
    expect(hostAllowed(url, ['cam1.paddock.example:8080'])).toBe(true);
    expect(hostAllowed(url, ['cam1.paddock.example:9090'])).toBe(false);
    expect(hostAllowed(url, ['*.paddock.example'])).toBe(true);
    expect(hostAllowed(url, ['*.example.org', 'paddock.example'])).toBe(false);
  });

  it('treats a directory as a path boundary', () => {
    expect(isInside('/data/videos/a.mp4', '/data/videos')).toBe(true);
    expect(isInside('/data/videos', '/data/videos')).toBe(true);
    expect(isInside('/data/videos-evil/a.mp4', '/data/videos')).toBe(false);
    expect(isInside('/data/a.mp4', '/data/videos')).toBe(false);
  });
});
