import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.ts';
import { freePort, waitForPort } from '../helpers/ports.ts';
import { createScratchDatabase, serviceAvailable, TEST_REDIS_URL } from '../helpers/services.ts';

/** A private nats-server, so stopping it disturbs no other suite. Missing binary: skip, but not under CI. */
const NATS_SERVER = process.env.NATS_SERVER_BIN ?? '/usr/sbin/nats-server';
const natsServerInstalled = spawnSync(NATS_SERVER, ['--version']).status === 0;
if (!natsServerInstalled && process.env.CI === 'true') throw new Error(`${NATS_SERVER} is missing; the reconnect test may not skip under CI=true`);
const available = natsServerInstalled && (await serviceAvailable('postgres')) && (await serviceAvailable('redis'));

describe.skipIf(!available)('paddock run when NATS goes away and comes back', () => {
  let server: ChildProcess | null = null;
  let daemon: DaemonProcess | null = null;
  let cleanup: Array<() => Promise<void>> = [];

  afterAll(async () => {
    daemon?.child.kill('SIGKILL');
    server?.kill('SIGKILL');
    for (const step of cleanup.reverse()) await step().catch(() => {});
    cleanup = [];
  });

  it('reconnects, and every chunk is processed exactly once', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-reconnect-'));
    const port = await freePort();
    const startServer = async () => {
      server = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dir, 'jetstream')], { stdio: 'ignore' });
      await waitForPort(port, true);
    };
    await startServer();
    const { chunks } = await writeSyntheticStream({ outDir: path.join(dir, 'video'), horses: 2, chunks: 2, secondsPerChunk: 3, fps: 10, seed: 3 });
    const scratch = await createScratchDatabase();
    cleanup.push(scratch.drop);
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    cleanup.push(() => db.end());
    const rows = async () => (await db.query<{ chunk_id: string }>('SELECT chunk_id FROM stream_chunks ORDER BY sequence')).rows.map((r) => r.chunk_id);
    const until = async (condition: () => Promise<boolean>) => {
      const deadline = Date.now() + 40_000;
      while (!(await condition())) {
        if (Date.now() > deadline) throw new Error(`not reached; chunk log ${JSON.stringify(await rows())}; daemon: ${JSON.stringify(daemon?.logs.slice(-5))}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    };

    const natsUrl = `nats://127.0.0.1:${port}`;
    daemon = startDaemonProcess({
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: natsUrl,
      PADDOCK_HTTP_PORT: '0',
      PADDOCK_NATS_ACK_WAIT_S: '5',
      PADDOCK_DATA_DIR: dir,
    });
    await daemon.waitForLog((line) => line.msg === 'paddock ready');
    const publish = async (sequence: number) => {
      const nc = await connect({ servers: natsUrl });
      try {
        const payload = { stream_id: 'yard', chunk_id: `yard-${sequence}`, sequence, uri: chunks[sequence - 1]!, start_time: new Date().toISOString(), duration_s: 3 };
        await jetstream(nc).publish(`horses.chunks.yard`, JSON.stringify(payload));
      } finally {
        await nc.close();
      }
    };

    await publish(1);
    await until(async () => (await rows()).length === 1);

    server!.kill('SIGTERM');
    await waitForPort(port, false);
    await daemon.waitForLog((line) => String(line.msg).includes('disconnected'), 20_000);
    await startServer();
    await daemon.waitForLog((line) => line.msg === 'reconnected to NATS', 30_000);

    await publish(2);
    await until(async () => (await rows()).length === 2);
    await new Promise((resolve) => setTimeout(resolve, 6000)); // past an ack wait: nothing comes twice
    expect(await rows()).toEqual(['yard-1', 'yard-2']);
    expect(daemon.child.exitCode).toBeNull();

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('SIGTERM while NATS is unreachable: the daemon is gone by the shutdown deadline', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-deadline-'));
    const port = await freePort();
    const frozen = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', path.join(dir, 'jetstream')], { stdio: 'ignore' });
    server = frozen;
    await waitForPort(port, true);
    const scratch = await createScratchDatabase();
    cleanup.push(scratch.drop);
    const stoppable = startDaemonProcess({
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: `nats://127.0.0.1:${port}`,
      PADDOCK_HTTP_PORT: '0',
      PADDOCK_DATA_DIR: dir,
      PADDOCK_SHUTDOWN_DEADLINE_S: '6',
    });
    daemon = stoppable;
    await stoppable.waitForLog((line) => line.msg === 'paddock ready');
    // Frozen, not gone: connections stay open and every request hangs (the worst case for a drain).
    frozen.kill('SIGSTOP');
    const signalledAt = Date.now();
    stoppable.child.kill('SIGTERM');
    const code = await stoppable.exited;
    frozen.kill('SIGCONT');
    expect(Date.now() - signalledAt).toBeLessThan(6000 + 2000);
    expect([0, 1]).toContain(code);
  }, 60_000);
});
