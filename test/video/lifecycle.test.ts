import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaddockError } from '../../src/errors/index.ts';
import { decodeChunk, type DecodeOptions } from '../../src/video/index.ts';
import { childProcesses, makeTempDir, makeTestsrc } from './fixtures.ts';

const OPTIONS: DecodeOptions = { sampleFps: 5, maxWidth: 160, maxHeight: 160, timeoutMs: 20_000 };

async function errorOf(uri: string, options: DecodeOptions): Promise<PaddockError | undefined> {
  try {
    for await (const _frame of decodeChunk(uri, 'chunk-9', options)) {
      // drain
    }
  } catch (error) {
    if (error instanceof PaddockError) return error;
    throw error;
  }
  return undefined;
}

async function listen(handler: http.RequestListener): Promise<{ server: http.Server; base: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('ffmpeg process lifetime', () => {
  let dir: string;
  let tenSeconds: string;
  let server: http.Server;
  let base: string;
  const requests: string[] = [];
  // Another host (127.0.0.2 would need root; another port is another host:port for the allow-list).
  let secretServer: http.Server;
  let secretBase: string;
  const secretRequests: string[] = [];

  beforeAll(async () => {
    dir = await makeTempDir();
    tenSeconds = await makeTestsrc(dir, 'ten.mp4', { width: 320, height: 240, fps: 25, seconds: 10, extra: ['-movflags', '+faststart'] });
    ({ server: secretServer, base: secretBase } = await listen((request, response) => {
      secretRequests.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'video/mp4' });
      fs.createReadStream(tenSeconds).pipe(response);
    }));
    ({ server, base } = await listen((request, response) => {
      requests.push(request.url ?? '');
      if (request.url === '/ten.mp4') {
        response.writeHead(200, { 'content-type': 'video/mp4' });
        fs.createReadStream(tenSeconds).pipe(response);
      } else if (request.url === '/redir-inside') {
        response.writeHead(302, { location: '/ten.mp4' }).end();
      } else if (request.url === '/redir-outside') {
        response.writeHead(302, { location: `${secretBase}/secret.mp4` }).end();
      } else if (request.url === '/hang.mp4') {
        // Accepts the request and never answers.
      } else {
        response.writeHead(404).end();
      }
    }));
  });

  afterAll(async () => {
    server.closeAllConnections();
    secretServer.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await new Promise((resolve) => secretServer.close(resolve));
    await fsp.rm(dir, { recursive: true, force: true });
  });

  it('kills ffmpeg when the consumer stops early', async () => {
    let seen = 0;
    let runningDuringIteration: number[] = [];
    for await (const frame of decodeChunk(tenSeconds, 'chunk-9', OPTIONS)) {
      seen = frame.index + 1;
      if (seen === 1) runningDuringIteration = await childProcesses('ffmpeg');
      if (seen === 3) break;
    }
    expect(seen).toBe(3);
    expect(runningDuringIteration).toHaveLength(1);
    expect(await childProcesses('ffmpeg')).toEqual([]);
  });

  it('kills a hung ffmpeg after timeoutMs with VIDEO_TIMEOUT', async () => {
    const hanging = path.join(dir, 'hanging-ffmpeg');
    await fsp.writeFile(hanging, '#!/bin/sh\nexec sleep 60\n', { mode: 0o755 });
    const started = Date.now();
    const error = await errorOf(tenSeconds, { ...OPTIONS, ffmpegPath: hanging, timeoutMs: 500 });
    expect(error?.code).toBe('VIDEO_TIMEOUT');
    expect(error?.message).toContain('chunk-9');
    expect(error?.details).toMatchObject({ chunkId: 'chunk-9', uri: tenSeconds, framesDecoded: 0, timeoutMs: 500 });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await childProcesses('sleep')).toEqual([]);
  });

  it('times out on an http source that never answers, and leaves no ffmpeg behind', async () => {
    const uri = `${base}/hang.mp4`;
    const error = await errorOf(uri, { ...OPTIONS, timeoutMs: 1000, allowedHosts: ['127.0.0.1'] });
    expect(error?.code).toBe('VIDEO_TIMEOUT');
    expect(requests).toContain('/hang.mp4');
    expect(await childProcesses('ffmpeg')).toEqual([]);
  });

  it('decodes over http from an allowed host', async () => {
    const timestamps: number[] = [];
    for await (const frame of decodeChunk(`${base}/ten.mp4`, 'chunk-9', { ...OPTIONS, sampleFps: 1, allowedHosts: ['127.0.0.1'] })) {
      timestamps.push(frame.timestampS);
    }
    expect(timestamps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('checks every redirect hop against the allowed hosts: a redirect elsewhere is refused and never fetched', async () => {
    const allowedHosts = [new URL(base).host];
    const inside: number[] = [];
    for await (const frame of decodeChunk(`${base}/redir-inside`, 'chunk-9', { ...OPTIONS, sampleFps: 1, allowedHosts })) inside.push(frame.index);
    expect(inside).toHaveLength(10);
    const error = await errorOf(`${base}/redir-outside`, { ...OPTIONS, allowedHosts });
    expect(error?.code).toBe('VIDEO_FORBIDDEN');
    expect(error?.message).toMatch(/not in the allowed hosts/);
    expect(secretRequests).toEqual([]);
    expect(await childProcesses('ffmpeg')).toEqual([]);
  });

  it('without an allow-list, refuses loopback and private hosts (naming the setting that allows them)', async () => {
    const before = requests.length;
    const error = await errorOf(`${base}/ten.mp4`, OPTIONS);
    expect(error?.code).toBe('VIDEO_FORBIDDEN');
    expect(error?.message).toMatch(/internal address .*PADDOCK_ALLOWED_HOSTS/);
    expect(requests.length).toBe(before); // refused before any request
  });

  it('reports an http 404 as VIDEO_MISSING', async () => {
    const uri = `${base}/gone.mp4`;
    const error = await errorOf(uri, { ...OPTIONS, allowedHosts: ['127.0.0.1'] });
    expect(error?.code).toBe('VIDEO_MISSING');
    expect(error?.details).toMatchObject({ chunkId: 'chunk-9', uri });
  });
});
