/** `paddock demo --serve`: the main job, then its stream's page and API kept up until Ctrl-C. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { freePort } from '../helpers/ports.ts';

describe('paddock demo --serve', { timeout: 240_000 }, () => {
  let dataDir: string | undefined;
  afterAll(async () => {
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
  });

  it('ends with the URL of its stream in the web app, serves it, and stops on SIGINT', async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'paddock-demo-'));
    const port = await freePort();
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith('PADDOCK_') && key !== 'DATABASE_URL' && key !== 'REDIS_URL') env[key] = value;
    const child = spawn(
      process.execPath,
      [path.join(PROJECT_ROOT, 'bin', 'paddock.mjs'), 'demo', '--chunks', '2', '--seconds', '3', '--horses', '2', '--stream', 'demo-web', '--serve'],
      { env: { ...env, PADDOCK_DATA_DIR: dataDir, PADDOCK_HTTP_PORT: String(port), PADDOCK_HTTP_HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => (stderr += data.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (data: Buffer) => {
        stdout += data.toString();
        const match = /web app: (http:\/\/\S+)/.exec(stdout);
        if (match !== null) resolve(match[1]!);
      });
      void exited.then((code) => reject(new Error(`demo exited (${code}) before serving: ${stdout.slice(-500)} ${stderr.slice(-500)}`)));
    });
    expect(url).toBe(`http://127.0.0.1:${port}/#/streams/demo-web`);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('/assets/app.js');
    // No token is configured: the API answers this loopback client.
    const { horses } = (await (await fetch(`http://127.0.0.1:${port}/api/streams/demo-web/horses`)).json()) as { horses: Array<{ id: string; thumbnail_url: string | null }> };
    expect(horses.length).toBeGreaterThanOrEqual(1);
    const thumbnail = await fetch(`http://127.0.0.1:${port}${horses[0]!.thumbnail_url}`);
    expect(thumbnail.headers.get('content-type')).toBe('image/jpeg');
    child.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
