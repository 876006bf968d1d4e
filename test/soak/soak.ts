/**
 * The soak: chunks over several streams through `paddock run` on private NATS, PostgreSQL and
 * Redis servers while the daemon is killed (-9) and stopped (SIGTERM) at random moments and
 * the servers fail (PostgreSQL refusing connections, Redis killed, NATS restarted). Then it
 * reconciles what was published with the chunk log, the dead-letter stream and the consumer.
 * `npm run soak` runs the long version; test/soak/soak.test.ts a short one in CI.
 */
import { chmodSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.ts';
import { undisturbedRegistry } from '../helpers/reference-registry.ts';
import { startSoakServers } from './servers.ts';

export interface SoakOptions {
  streams: number;
  chunksPerStream: number;
  /** Daemon kills, alternating kill -9 and SIGTERM. */
  kills: number;
  /** How long PostgreSQL refuses connections. */
  postgresOutageMs: number;
  /** Everything must be processed within this. */
  budgetMs: number;
  seed?: number;
  log?: (line: string) => void;
}

export interface SoakReport {
  table: string;
  problems: string[];
}

const STREAM_PREFIX = 'soak';
const CHUNK_SECONDS = 2;

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const started = Date.now();
  const root = await mkdtemp(path.join(tmpdir(), 'paddock-soak-'));
  chmodSync(root, 0o755); // the private PostgreSQL runs as the postgres user
  const servers = await startSoakServers(root);
  const daemons: DaemonProcess[] = [];
  const closeServers: Array<() => void> = [];
  const listen = async (handler: http.RequestListener): Promise<{ port: number }> => {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closeServers.push(() => {
      server.closeAllConnections();
      server.close();
    });
    return { port: (server.address() as AddressInfo).port };
  };
  const tried: Array<[string, number]> = [];
  const count = (what: string, times = 1) => {
    const entry = tried.find(([name]) => name === what);
    if (entry === undefined) tried.push([what, times]);
    else entry[1] += times;
  };
  let random = options.seed ?? 7;
  const next = () => {
    random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
    return random / 2_147_483_648;
  };
  try {
    const rendered = await writeSyntheticStream({ outDir: path.join(root, 'video'), horses: 2, chunks: options.chunksPerStream, secondsPerChunk: CHUNK_SECONDS, fps: 10, seed: options.seed ?? 7 });
    const video = { chunks: await Promise.all(rendered.chunks.map(async (file) => {
      const inside = path.join(root, 'allowed', path.basename(file));
      await mkdir(path.dirname(inside), { recursive: true });
      await copyFile(file, inside);
      return inside;
    })) };
    const streams = Array.from({ length: options.streams }, (_, i) => `${STREAM_PREFIX}${i + 1}`);
    const expected = new Set(streams.flatMap((stream) => video.chunks.map((_, c) => `${stream}-${c + 1}`)));

    // Chunks must come from here; the HTTP server on loopback is allowed, the "secret" one is not.
    const allowedDir = path.join(root, 'allowed');
    await mkdir(allowedDir, { recursive: true });
    const secretRequests: string[] = [];
    const secret = await listen((request, response) => {
      secretRequests.push(request.url ?? '');
      response.writeHead(200).end('secret');
    });
    const redirector = await listen((_request, response) => {
      response.writeHead(302, { location: `http://127.0.0.1:${secret.port}/secret.mp4` }).end();
    });
    const nc = await connect({ servers: servers.nats.url });
    const js = jetstream(nc);
    const env = {
      DATABASE_URL: servers.postgres.url,
      REDIS_URL: servers.redis.url,
      NATS_URL: servers.nats.url,
      PADDOCK_HTTP_PORT: '0',
      PADDOCK_NATS_ACK_WAIT_S: '5',
      PADDOCK_SHUTDOWN_DEADLINE_S: '6',
      PADDOCK_DATA_DIR: path.join(root, 'data'),
      PADDOCK_SAMPLE_FPS: '5',
      PADDOCK_EP: 'cpu',
      PADDOCK_LOG_LEVEL: 'info',
      PADDOCK_ALLOWED_PATHS: allowedDir,
      PADDOCK_ALLOWED_HOSTS: `127.0.0.1:${redirector.port}`,
    };
    const launch = async () => {
      const daemon = startDaemonProcess(env);
      daemons.push(daemon);
      await daemon.waitForLog((line) => line.msg === 'paddock ready', 60_000);
      return daemon;
    };
    let daemon = await launch();
    // Published in stream order, streams interleaved; the chunks of a stream follow each other in time.
    const base = Date.UTC(2026, 11, 1, 8, 0, 0);
    const publishChunks = async (from: number, to: number) => {
      for (let c = from; c < to; c += 1) {
        for (const stream of streams) {
          const payload = { stream_id: stream, chunk_id: `${stream}-${c + 1}`, sequence: c + 1, uri: video.chunks[c], start_time: new Date(base + c * CHUNK_SECONDS * 1000).toISOString(), duration_s: CHUNK_SECONDS };
          await js.publish(`horses.chunks.${stream}`, JSON.stringify(payload));
        }
      }
    };
    // The first half now (under the kills), the rest while PostgreSQL refuses connections.
    const half = Math.ceil(video.chunks.length / 2);
    await publishChunks(0, half);
    // The hostile corpus, on a stream of its own: every one must be dead-lettered with its reason.
    const hostile: Array<[string, string]> = [
      ['not JSON', '{"stream_id": "hostile",'],
      ['schema', JSON.stringify({ stream_id: 'hostile', chunk_id: 'h-schema', sequence: -1, uri: video.chunks[0], start_time: 'yesterday', duration_s: 2 })],
      ['path outside the allowed paths', hostileEvent('h-path', 1, '/etc/passwd')],
      ['redirect to a host not allowed', hostileEvent('h-redirect', 2, `http://127.0.0.1:${redirector.port}/redir.mp4`)],
      ['host not allowed', hostileEvent('h-host', 3, `http://127.0.0.1:${secret.port}/secret.mp4`)],
      ['ftp URI', hostileEvent('h-ftp', 4, 'ftp://127.0.0.1/x.mp4')],
      ['600 KB of quotes', '"'.repeat(600 * 1024)],
      ['deeply nested JSON', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
    ];
    for (const [, payload] of hostile) await js.publish('horses.chunks.hostile', payload);
    count('hostile events (bad JSON and schema, forbidden', 0);
    count('  paths, hosts and redirects, 600 KB, deep nesting)', hostile.length);

    const db = new pg.Client({ connectionString: servers.postgres.url });
    const processedIds = async (): Promise<string[]> => {
      const client = new pg.Client({ connectionString: servers.postgres.url });
      try {
        await client.connect();
        return (await client.query<{ chunk_id: string }>("SELECT chunk_id FROM stream_chunks WHERE stream_id LIKE 'soak%'")).rows.map((row) => row.chunk_id);
      } catch {
        return [];
      } finally {
        await client.end().catch(() => {});
      }
    };
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    // Kills at random moments while chunks are being processed.
    for (let k = 0; k < options.kills; k += 1) {
      await sleep(1500 + next() * 3000);
      const how = k % 2 === 0 ? 'SIGKILL' : 'SIGTERM';
      daemon.child.kill(how);
      await daemon.exited;
      count(how === 'SIGKILL' ? 'daemon killed (-9)' : 'daemon stopped (SIGTERM)');
      log(`${how} #${k + 1}; ${(await processedIds()).length}/${expected.size} processed`);
      daemon = await launch();
    }
    // PostgreSQL refuses connections for a while; Redis dies; NATS restarts.
    await servers.postgres.stop('clean');
    count(`PostgreSQL refusing connections for ${Math.round(options.postgresOutageMs / 1000)} s`);
    await publishChunks(half, video.chunks.length);
    count('  chunks published during the outage', (video.chunks.length - half) * streams.length);
    await sleep(options.postgresOutageMs);
    await servers.postgres.start();
    await servers.redis.stop('kill');
    count('Redis killed (restarted 3 s later)');
    await sleep(3000);
    await servers.redis.start();
    await servers.nats.stop('clean');
    count('NATS restarted');
    await sleep(1000);
    await servers.nats.start();
    log('outages done');

    // Everything settles: every chunk processed and the consumer holding nothing (a stream that
    // lost a sequence to a dead letter waits out its gap timeout first).
    const settledConsumer = async () => {
      try {
        const info = await (await jetstreamManager(nc)).consumers.info('HORSE_CHUNKS', 'paddock');
        return info.num_pending === 0 && info.num_ack_pending === 0;
      } catch {
        return false; // NATS just restarted: ask again
      }
    };
    while (((await processedIds()).length < expected.size || !(await settledConsumer())) && Date.now() - started < options.budgetMs) await sleep(1000);
    await sleep(6000); // past an ack wait: anything redelivered would show now

    const problems: string[] = [];
    await db.connect();
    const rows = (await db.query<{ stream_id: string; chunk_id: string; sequence: number }>("SELECT stream_id, chunk_id, sequence FROM stream_chunks WHERE stream_id LIKE 'soak%' ORDER BY processed_at, sequence")).rows;
    const processed = new Set(rows.map((row) => row.chunk_id));
    const lost = [...expected].filter((id) => !processed.has(id));
    if (lost.length > 0) problems.push(`not processed: ${lost.join(', ')}`);
    for (const stream of streams) {
      const order = rows.filter((row) => row.stream_id === stream).map((row) => Number(row.sequence));
      if (order.some((sequence, i) => i > 0 && sequence < order[i - 1]!)) problems.push(`${stream} processed out of order: ${order.join(',')}`);
    }
    const persistedTwice = new Map<string, number>();
    for (const line of daemons.flatMap((d) => d.logs)) {
      if (line.msg === 'chunk persisted' && line.duplicate === false) persistedTwice.set(String(line.chunk_id), (persistedTwice.get(String(line.chunk_id)) ?? 0) + 1);
    }
    const twice = [...persistedTwice].filter(([, n]) => n > 1).map(([id]) => id);
    if (twice.length > 0) problems.push(`persisted more than once: ${twice.join(', ')}`);
    const jsm = await retrying(() => jetstreamManager(nc));
    const dlq = await deadLetterRecords(jsm);
    const deadLetters = dlq.filter((record) => String(record.stream_id).startsWith('soak')).length;
    if (deadLetters > 0) problems.push(`${deadLetters} valid chunks dead-lettered`);
    const hostileDead = dlq.filter((record) => record.stream_id === 'hostile' || record.stream_id === '_invalid');
    if (hostileDead.length !== hostile.length) problems.push(`${hostileDead.length} of ${hostile.length} hostile events dead-lettered`);
    if (hostileDead.some((record) => typeof record.reason !== 'string' || record.reason.length === 0)) problems.push('a dead letter without its reason');
    if (secretRequests.length > 0) problems.push(`forbidden fetches: ${secretRequests.join(', ')}`);
    const consumer = await retrying(() => jsm.consumers.info('HORSE_CHUNKS', 'paddock'));
    if (consumer.num_pending !== 0 || consumer.num_ack_pending !== 0) problems.push(`consumer not settled: ${consumer.num_pending} pending, ${consumer.num_ack_pending} awaiting ack`);
    // The same chunks undisturbed, in this process on an embedded registry: the reference registry.
    const reference = await undisturbedRegistry(video.chunks, { dataDir: path.join(root, 'reference'), chunkSeconds: CHUNK_SECONDS, env: { PADDOCK_ALLOWED_PATHS: allowedDir } });
    const registries = (await db.query<{ stream_id: string; ids: string }>(
      "SELECT stream_id, string_agg(id || ':' || total_detections, ',' ORDER BY id) AS ids FROM horses WHERE merged_into IS NULL AND stream_id LIKE 'soak%' GROUP BY stream_id",
    )).rows;
    const differing = registries.filter((row) => row.ids !== reference);
    if (differing.length > 0 || registries.length !== streams.length) problems.push(`registries differ from an undisturbed run (${reference}): ${JSON.stringify(differing)}`);
    await db.end();
    await nc.close();

    const survived = [
      ['chunks', `${expected.size} published over ${options.streams} streams, ${processed.size} in the chunk log, ${lost.length} lost`],
      ['dead letters', String(deadLetters)],
      ['persisted twice', String(twice.length)],
      ['per-stream order', problems.some((p) => p.includes('out of order')) ? 'broken' : 'kept'],
      ['registries', differing.length === 0 ? `the same as an undisturbed run (${reference})` : 'differ'],
      ['hostile events', `${hostileDead.length} of ${hostile.length} dead-lettered with their reason; ${secretRequests.length} forbidden fetches`],
      ['consumer', `${consumer.num_pending} pending, ${consumer.num_ack_pending} awaiting ack`],
      ['wall time', `${Math.round((Date.now() - started) / 1000)} s`],
    ];
    const table = [
      `${'what was tried'.padEnd(52)}times`,
      ...tried.map(([what, n]) => (n === 0 ? what : `${what.padEnd(52)}${n}`)),
      '',
      'what survived',
      ...survived.map(([what, value]) => `${what!.padEnd(20)}${value}`),
    ].join('\n');
    return { table, problems };
  } finally {
    closeServers.forEach((close) => close());
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    await servers.stopAll();
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}

function hostileEvent(chunkId: string, sequence: number, uri: string): string {
  return JSON.stringify({ stream_id: 'hostile', chunk_id: chunkId, sequence, uri, start_time: '2026-12-01T08:00:00Z', duration_s: 2 });
}

async function deadLetterRecords(jsm: Awaited<ReturnType<typeof jetstreamManager>>): Promise<Array<Record<string, unknown>>> {
  const info = await jsm.streams.info('HORSE_DLQ').catch(() => null);
  if (info === null || info.state.messages === 0) return [];
  const records: Array<Record<string, unknown>> = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq += 1) {
    const stored = await jsm.streams.getMessage('HORSE_DLQ', { seq }).catch(() => null);
    if (stored !== null) records.push(stored.json<Record<string, unknown>>());
  }
  return records;
}

/** A NATS request that may time out while the client reconnects after the server's restart. */
async function retrying<T>(request: () => Promise<T>, attempts = 10): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await request();
    } catch (error) {
      if (attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}
