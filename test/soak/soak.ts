/**
 * The soak: chunks over several streams through `paddock run` on private NATS, PostgreSQL and
 * Redis servers while the daemon is killed (-9) and stopped (SIGTERM) at random moments and
 * the servers fail (PostgreSQL refusing connections, Redis killed, NATS restarted). Then it
 * reconciles what was published with the chunk log, the dead-letter stream and the consumer.
 * `npm run soak` runs the long version; test/soak/soak.test.ts a short one in CI.
 */
import { chmodSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.ts';
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
  const tried: Array<[string, number]> = [];
  const count = (what: string) => {
    const entry = tried.find(([name]) => name === what);
    if (entry === undefined) tried.push([what, 1]);
    else entry[1] += 1;
  };
  let random = options.seed ?? 7;
  const next = () => {
    random = (random * 1_103_515_245 + 12_345) % 2_147_483_648;
    return random / 2_147_483_648;
  };
  try {
    const video = await writeSyntheticStream({ outDir: path.join(root, 'video'), horses: 2, chunks: options.chunksPerStream, secondsPerChunk: CHUNK_SECONDS, fps: 10, seed: options.seed ?? 7 });
    const streams = Array.from({ length: options.streams }, (_, i) => `${STREAM_PREFIX}${i + 1}`);
    const expected = new Set(streams.flatMap((stream) => video.chunks.map((_, c) => `${stream}-${c + 1}`)));

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

    const db = new pg.Client({ connectionString: servers.postgres.url });
    const processedIds = async (): Promise<string[]> => {
      const client = new pg.Client({ connectionString: servers.postgres.url });
      try {
        await client.connect();
        return (await client.query<{ chunk_id: string }>('SELECT chunk_id FROM stream_chunks')).rows.map((row) => row.chunk_id);
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
    count(`chunks published during the outage: ${(video.chunks.length - half) * streams.length}`);
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

    while ((await processedIds()).length < expected.size && Date.now() - started < options.budgetMs) await sleep(1000);
    await sleep(6000); // past an ack wait: anything redelivered would show now

    const problems: string[] = [];
    await db.connect();
    const rows = (await db.query<{ stream_id: string; chunk_id: string; sequence: number }>('SELECT stream_id, chunk_id, sequence FROM stream_chunks ORDER BY processed_at, sequence')).rows;
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
    const jsm = await jetstreamManager(nc);
    const deadLetters = await jsm.streams.info('HORSE_DLQ').then((info) => info.state.messages).catch(() => 0);
    if (deadLetters > 0) problems.push(`${deadLetters} dead-lettered`);
    const consumer = await jsm.consumers.info('HORSE_CHUNKS', 'paddock');
    if (consumer.num_pending !== 0 || consumer.num_ack_pending !== 0) problems.push(`consumer not settled: ${consumer.num_pending} pending, ${consumer.num_ack_pending} awaiting ack`);
    const horses = (await db.query<{ stream_id: string; n: number }>('SELECT stream_id, count(*)::int AS n FROM horses WHERE merged_into IS NULL GROUP BY stream_id')).rows;
    const counts = new Set(horses.map((row) => row.n));
    if (counts.size > 1) problems.push(`streams with the same chunks built different registries: ${JSON.stringify(horses)}`);
    await db.end();
    await nc.close();

    const survived = [
      ['chunks', `${expected.size} published over ${options.streams} streams, ${processed.size} in the chunk log, ${lost.length} lost`],
      ['dead letters', String(deadLetters)],
      ['persisted twice', String(twice.length)],
      ['per-stream order', problems.some((p) => p.includes('out of order')) ? 'broken' : 'kept'],
      ['registries', counts.size <= 1 ? `equal across streams (${[...counts].join('') || 0} horses each)` : 'differ'],
      ['consumer', `${consumer.num_pending} pending, ${consumer.num_ack_pending} awaiting ack`],
      ['wall time', `${Math.round((Date.now() - started) / 1000)} s`],
    ];
    const table = [
      'what was tried                              times',
      ...tried.map(([what, n]) => `${what.padEnd(44)}${n}`),
      '',
      'what survived',
      ...survived.map(([what, value]) => `${what!.padEnd(20)}${value}`),
    ].join('\n');
    return { table, problems };
  } finally {
    for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
    await servers.stopAll();
    await rm(root, { recursive: true, force: true }).catch(() => {});
  }
}
