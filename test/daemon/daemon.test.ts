import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import { runCli } from '../helpers/cli.ts';
import { startDaemonProcess as startDaemon, type DaemonProcess } from '../helpers/daemon-process.ts';
import { createScratchDatabase, serviceAvailable, TEST_NATS_URL, TEST_REDIS_URL } from '../helpers/services.ts';
import { runTool, toolAvailable } from '../observability/tools.ts';

const available = (await serviceAvailable('postgres')) && (await serviceAvailable('redis')) && (await serviceAvailable('nats'));

describe.skipIf(!available)('paddock run on NATS JetStream, PostgreSQL and Redis', () => {
  const tag = `t${process.pid}${Math.random().toString(36).slice(2, 7)}`;
  let chunks: string[] = [];
  let scratch: { url: string; drop: () => Promise<void> };
  let nc: NatsConnection;
  let db: pg.Client;
  let env: Record<string, string>;
  const processed: Array<{ stream_id: string; chunk_id: string; sequence: number; horses: Array<{ id: string; status: string }> }> = [];
  const deadLetters: Array<Record<string, unknown>> = [];
  const daemons: DaemonProcess[] = [];

  beforeAll(async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-daemon-'));
    ({ chunks } = await writeSyntheticStream({ outDir: dir, horses: 4, chunks: 3, secondsPerChunk: 6, fps: 10, seed: 11 }));
    scratch = await createScratchDatabase();
    db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    nc = await connect({ servers: TEST_NATS_URL });
    nc.subscribe(`${tag}.events.>`, {
      callback: (_error, message) => {
        const event = message.json<{ type: string }>();
        if (event.type === 'chunk.processed') processed.push(event as unknown as (typeof processed)[number]);
      },
    });
    nc.subscribe(`${tag}.dlq.>`, { callback: (_error, message) => void deadLetters.push(message.json<Record<string, unknown>>()) });
    env = {
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: TEST_NATS_URL,
      PADDOCK_NATS_SUBJECT_PREFIX: tag,
      PADDOCK_NATS_STREAM: `${tag}_CHUNKS`,
      PADDOCK_NATS_DLQ_STREAM: `${tag}_DLQ`,
      PADDOCK_NATS_CONSUMER: `${tag}_paddock`,
      PADDOCK_NATS_ACK_WAIT_S: '4',
      PADDOCK_HTTP_PORT: '0',
      PADDOCK_HTTP_HOST: '127.0.0.1',
      PADDOCK_SAMPLE_FPS: '5',
      PADDOCK_DATA_DIR: dir,
      PADDOCK_LOG_LEVEL: 'info',
    };
  });

  afterAll(async () => {
    for (const daemon of daemons) daemon.child.kill('SIGKILL');
    if (nc !== undefined) {
      const { jetstreamManager } = await import('@nats-io/jetstream');
      const jsm = await jetstreamManager(nc);
      await jsm.streams.delete(`${tag}_CHUNKS`).catch(() => {});
      await jsm.streams.delete(`${tag}_DLQ`).catch(() => {});
      await nc.close();
    }
    await db?.end();
    await scratch?.drop();
  });

  const launch = async (extra: Record<string, string> = {}) => {
    const daemon = startDaemon({ ...env, ...extra });
    daemons.push(daemon);
    await daemon.waitForLog((line) => line.msg === 'paddock ready');
    return daemon;
  };

  const publish = async (streamId: string, sequence: number) => {
    const payload = {
      stream_id: streamId,
      chunk_id: `${streamId}-${sequence}`,
      sequence,
      uri: chunks[sequence - 1]!,
      start_time: new Date(Date.UTC(2026, 10, 25, 12, 0, (sequence - 1) * 6)).toISOString(),
      duration_s: 6,
    };
    await jetstream(nc).publish(`${tag}.chunks.${streamId}`, JSON.stringify(payload));
  };

  const chunkRows = async (streamId: string) =>
    (await db.query<{ chunk_id: string }>('SELECT chunk_id FROM stream_chunks WHERE stream_id = $1 ORDER BY sequence', [streamId])).rows.map((r) => r.chunk_id);

  const until = async (condition: () => Promise<boolean> | boolean, timeoutMs = 40_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!(await condition())) {
      if (Date.now() > deadline) {
        const tail = daemons.at(-1)?.logs.slice(-8).map((line) => JSON.stringify(line)).join('\n');
        throw new Error(`condition not met in time; ${processed.length} chunks processed; daemon log tail:\n${tail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  it('refuses to start on a database with pending migrations unless told to migrate', async () => {
    const fresh = await createScratchDatabase();
    try {
      const result = await runCli(['run'], { ...env, DATABASE_URL: fresh.url, PADDOCK_LOG_LEVEL: 'silent' });
      expect(result.code).toBe(1);
      // onnxruntime may print its own lines first (the CUDA provider failing to load): the last line is ours.
      expect(result.stderr.trim().split('\n').at(-1)).toMatch(/^paddock: \d+ database migration\(s\) pending .*--migrate$/);
    } finally {
      await fresh.drop();
    }
  });

  it('processes two streams published out of order exactly once, in sequence order, keeping IDs', async () => {
    const daemon = await launch();
    for (const [streamId, sequence] of [['barn-a', 3], ['barn-b', 2], ['barn-a', 1], ['barn-b', 3], ['barn-b', 1], ['barn-a', 2]] as const) {
      await publish(streamId, sequence);
    }
    await until(() => processed.filter((p) => p.stream_id.startsWith('barn-')).length >= 6);
    for (const streamId of ['barn-a', 'barn-b']) {
      const mine = processed.filter((p) => p.stream_id === streamId);
      expect(mine.map((p) => p.sequence)).toEqual([1, 2, 3]);
      expect(await chunkRows(streamId)).toEqual([`${streamId}-1`, `${streamId}-2`, `${streamId}-3`]);
      const second = new Set(mine[1]!.horses.map((h) => h.id));
      const carried = mine[2]!.horses.filter((h) => second.has(h.id) && h.status !== 'new');
      expect(carried.length).toBeGreaterThan(0);
    }
    // Same files, same models: both streams built the same registry.
    const count = async (streamId: string) => Number((await db.query('SELECT count(*) AS n FROM horses WHERE stream_id = $1', [streamId])).rows[0].n);
    expect(await count('barn-a')).toBe(await count('barn-b'));

    const httpUrl = String((await daemon.waitForLog((l) => l.msg === 'http endpoints up')).url);
    expect(httpUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/); // PADDOCK_HTTP_HOST
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/paddock_chunks_total\{stream="barn-a",outcome="processed"\} 3/);
    expect(metrics).toMatch(/paddock_execution_provider_info\{model="detector",provider="cpu"\} 1/);
    expect((await fetch(`${httpUrl}/readyz`)).status).toBe(200);
    expect((await fetch(`${httpUrl}/healthz`)).status).toBe(200);

    // The running daemon's own scrape lints clean, and the dashboard asks only for what it exports.
    if (toolAvailable('promtool', 'prometheus')) {
      const lint = runTool('promtool', ['check', 'metrics'], { input: metrics });
      expect(lint.output.trim()).toBe('');
      expect(lint.status).toBe(0);
    }
    const families = new Set([...metrics.matchAll(/^# TYPE (\S+) (\S+)/gm)].flatMap(([, name, type]) =>
      type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name!],
    ));
    const dashboard = JSON.parse(await readFile(path.join(PROJECT_ROOT, 'grafana', 'dashboards', 'paddock.json'), 'utf8')) as { panels: Array<{ targets?: Array<{ expr?: string }> }> };
    const queried = new Set(dashboard.panels.flatMap((panel) => (panel.targets ?? []).flatMap((target) => [...(target.expr ?? '').matchAll(/\b(paddock_[a-zA-Z0-9_:]*)/g)].map((m) => m[1]!))));
    expect(queried.size).toBeGreaterThan(10);
    expect([...queried].filter((name) => !families.has(name))).toEqual([]);

    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('dead-letters invalid events with the reason and never crashes', async () => {
    const daemon = await launch();
    await nc.publish(`${tag}.chunks.camx`, '{not json');
    await nc.publish(`${tag}.chunks.camx`, JSON.stringify({ stream_id: 'camx', chunk_id: 'c1' }));
    await publish('camx', 1).catch(() => {}); // a valid one still goes through afterwards
    await jetstream(nc).publish(`${tag}.chunks.camx`, '{not json either');
    await until(() => deadLetters.filter((d) => d.stream_id === 'camx').length >= 3);
    const reasons = deadLetters.filter((d) => d.stream_id === 'camx').map((d) => String(d.reason));
    expect(reasons.some((reason) => /json/i.test(reason))).toBe(true);
    expect(reasons.some((reason) => /sequence|uri|start_time|duration/i.test(reason))).toBe(true);
    await until(() => processed.some((p) => p.stream_id === 'camx'));
    expect(daemon.child.exitCode).toBeNull();
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  });

  it('after kill -9 mid-chunk, the chunk is redelivered and processed once, with no duplicate horse', async () => {
    const daemon = await launch();
    await publish('kill-c', 1);
    await daemon.waitForLog((line) => line.msg === 'registry loaded' && line.stream_id === 'kill-c');
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    const persistedBeforeKill = (await chunkRows('kill-c')).length;

    const restarted = await launch();
    await until(async () => (await chunkRows('kill-c')).length === 1);
    await new Promise((resolve) => setTimeout(resolve, 5000)); // past another ack wait: nothing comes twice
    expect(await chunkRows('kill-c')).toEqual(['kill-c-1']);
    expect(persistedBeforeKill).toBe(0); // killed while tracking, before anything was saved
    expect(processed.filter((p) => p.stream_id === 'kill-c')).toHaveLength(1);
    const horses = (await db.query('SELECT id FROM horses WHERE stream_id = $1', ['kill-c'])).rows.map((r) => r.id);
    const reference = processed.find((p) => p.stream_id === 'barn-a' && p.sequence === 1)!;
    expect(horses).toHaveLength(reference.horses.length);
    restarted.child.kill('SIGTERM');
    expect(await restarted.exited).toBe(0);
  });

  it('shutdowns never use up a chunk: SIGTERM mid-chunk again and again, with a delivery limit of 1, dead-letters nothing', async () => {
    const limitOne = { PADDOCK_MAX_DELIVERIES: '1', PADDOCK_SHUTDOWN_DEADLINE_S: '3' };
    await publish('term-f', 1);
    await publish('term-f', 2);
    for (let round = 0; round < 3; round += 1) {
      const daemon = await launch(limitOne);
      await daemon.waitForLog((line) => line.msg === 'registry loaded' && line.stream_id === 'term-f');
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    const last = await launch(limitOne);
    await until(async () => (await chunkRows('term-f')).length === 2);
    expect(await chunkRows('term-f')).toEqual(['term-f-1', 'term-f-2']);
    expect(deadLetters.filter((d) => d.stream_id === 'term-f')).toEqual([]);
    last.child.kill('SIGTERM');
    expect(await last.exited).toBe(0);
  });

  it('on SIGTERM during a chunk, finishes it (or naks it for redelivery) and exits 0', async () => {
    const daemon = await launch();
    await publish('term-d', 1);
    await daemon.waitForLog((line) => line.msg === 'registry loaded' && line.stream_id === 'term-d');
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
    if ((await chunkRows('term-d')).length === 0) {
      const again = await launch();
      await until(async () => (await chunkRows('term-d')).length === 1);
      again.child.kill('SIGTERM');
      expect(await again.exited).toBe(0);
    }
    expect(await chunkRows('term-d')).toEqual(['term-d-1']);
  });
});
