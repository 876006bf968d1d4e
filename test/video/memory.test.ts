import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { makeTempDir, makeVideo } from './fixtures.ts';

const run = promisify(execFile);
const MAX_RSS_BYTES = 300 * 1024 * 1024;

describe('decoding memory', () => {
  let dir: string;
  let chunk: string;

  beforeAll(async () => {
    dir = await makeTempDir();
    // 60 s of 1080p; 5 frames/s keeps generation fast while every frame is decoded at full size.
    chunk = await makeVideo(dir, 'sixty-1080p.mp4', [
      '-f', 'lavfi', '-i', 'testsrc2=size=1920x1080:rate=5:duration=60',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p',
    ]);
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('streams a 60 s 1080p chunk in under 300 MB RSS', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join('test', 'video', 'rss-probe.ts'), chunk], {
      cwd: PROJECT_ROOT,
      timeout: 55_000,
    });
    const result = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { frames: number; bytes: number; maxRssBytes: number };
    expect(result.frames).toBe(300);
    expect(result.bytes).toBe(300 * 1920 * 1080 * 3); // ~1.9 GB went through
    expect(result.maxRssBytes).toBeLessThan(MAX_RSS_BYTES);
  });
});
