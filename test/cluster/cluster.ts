/**
 * Several `paddock run` replicas on this machine sharing one JetStream consumer, one PostgreSQL
 * database and Redis: the harness of the scale-out tests (test/cluster) and benchmark
 * (bench/replicas.bench.ts). Chunks are small synthetic videos, the same files for every stream,
 * so every stream must end with the same registry as one undisturbed run.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import pg from 'pg';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.ts';
import { registryString } from '../helpers/reference-registry.ts';
import { createScratchDatabase, TEST_NATS_URL, TEST_REDIS_URL } from '../helpers/services.ts';

export const CHUNK_SECONDS = 2;

export interface ChunkRow {
  stream_id: string;
  chunk_id: string;
  sequence: number;
  processed_by: string | null;
  processed_at: Date;
}

export interface ClusterOptions {
  /** Chunks per stream (the same files for every stream). */
  chunks: number;
  leaseTtlS: number;
  ackWaitS: number;
  /** Any other variable for every replica. */
  env?: Record<string, string>;
}

export class Cluster {
  readonly tag = `k${process.pid}${Math.random().toString(36).slice(2, 7)}`;
  readonly replicas = new Map<string, DaemonProcess>();
  /** Every replica process ever started, in order (restarts included). */
  readonly processes: Array<{ id: string; daemon: DaemonProcess }> = [];
  readonly processedEvents: Array<{ stream_id: string; chunk_id: string; sequence: number }> = [];
  readonly deadLetters: Array<Record<string, unknown>> = [];
  chunks: string[] = [];
  private env: Record<string, string> = {};

  private constructor(
    readonly options: ClusterOptions,
    readonly dir: string,
    readonly db: pg.Client,
    readonly nc: NatsConnection,
    private readonly dropDatabase: () => Promise<void>,
  ) {}

  static async open(options: ClusterOptions): Promise<Cluster> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'paddock-cluster-'));
    const scratch = await createScratchDatabase('paddock_k');
    const db = new pg.Client({ connectionString: scratch.url });
    await db.connect();
    const nc = await connect({ servers: TEST_NATS_URL });
    const cluster = new Cluster(options, dir, db, nc, scratch.drop);
    ({ chunks: cluster.chunks } = await writeSyntheticStream({ outDir: path.join(dir, 'video'), horses: 2, chunks: options.chunks, secondsPerChunk: CHUNK_SECONDS, fps: 10, seed: 7, width: 320, height: 180 }));
    nc.subscribe(`${cluster.tag}.events.>`, {
      callback: (_error, message) => {
        const event = message.json<{ type: string; stream_id: string; chunk_id: string; sequence: number }>();
        if (event.type === 'chunk.processed') cluster.processedEvents.push(event);
      },
    });
    nc.subscribe(`${cluster.tag}.dlq.>`, { callback: (_error, message) => void cluster.deadLetters.push(message.json<Record<string, unknown>>()) });
    cluster.env = {
      DATABASE_URL: scratch.url,
      REDIS_URL: TEST_REDIS_URL,
      NATS_URL: TEST_NATS_URL,
      PADDOCK_NATS_SUBJECT_PREFIX: cluster.tag,
      PADDOCK_NATS_STREAM: `${cluster.tag}_CHUNKS`,
      PADDOCK_NATS_DLQ_STREAM: `${cluster.tag}_DLQ`,
      PADDOCK_NATS_CONSUMER: `${cluster.tag}_paddock`,
      PADDOCK_NATS_ACK_WAIT_S: String(options.ackWaitS),
      PADDOCK_LEASE_TTL_S: String(options.leaseTtlS),
      PADDOCK_HTTP_PORT: '0',
      PADDOCK_HTTP_HOST: '127.0.0.1',
      PADDOCK_SAMPLE_FPS: '5',
      PADDOCK_EP: 'cpu',
      // Three replicas share two cores: one inference thread each.
      PADDOCK_INTRA_OP_THREADS: '1',
      PADDOCK_INTER_OP_THREADS: '1',
      PADDOCK_SHUTDOWN_DEADLINE_S: '10',
      PADDOCK_DATA_DIR: dir,
      PADDOCK_LOG_LEVEL: 'info',
      ...options.env,
    };
    return cluster;
  }

  /** Starts replica `id` and waits until it takes chunks. */
  async start(id: string): Promise<DaemonProcess> {
    const daemon = startDaemonProcess({ ...this.env, PADDOCK_REPLICA_ID: id });
    this.replicas.set(id, daemon);
    this.processes.push({ id, daemon });
    await daemon.waitForLog((line) => line.msg === 'paddock ready', 60_000);
    return daemon;
  }

  /** SIGTERM, waits for the exit code. */
  async stop(id: string): Promise<number | null> {
    const daemon = this.replicas.get(id)!;
    daemon.child.kill('SIGTERM');
    const code = await daemon.exited;
    this.replicas.delete(id);
    return code;
  }

  /** Chunk `sequence` of the stream: the n-th synthetic chunk, or another file (`uri`, `durationS`). */
  async publish(streamId: string, sequence: number, file?: { uri: string; durationS: number }): Promise<void> {
    const payload = {
      stream_id: streamId,
      chunk_id: `${streamId}-${sequence}`,
      sequence,
      uri: file?.uri ?? this.chunks[(sequence - 1) % this.chunks.length]!,
      start_time: new Date(Date.UTC(2026, 11, 2, 12, 0, 0) + (sequence - 1) * CHUNK_SECONDS * 1000).toISOString(),
      duration_s: file?.durationS ?? CHUNK_SECONDS,
    };
    await jetstream(this.nc).publish(`${this.tag}.chunks.${streamId}`, JSON.stringify(payload));
  }

  /** Publishes every chunk of every stream, each stream's sequences shuffled and the streams interleaved. */
  async publishShuffled(streams: string[], sequences: number[], seed = 1): Promise<void> {
    let state = seed;
    const random = () => {
      state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
      return state / 2_147_483_648;
    };
    const shuffled = <T>(items: T[]) => items.map((item) => ({ item, key: random() })).sort((a, b) => a.key - b.key).map((entry) => entry.item);
    const queues = streams.map((streamId) => ({ streamId, left: shuffled(sequences) }));
    while (queues.some((queue) => queue.left.length > 0)) {
      const open = queues.filter((queue) => queue.left.length > 0);
      const queue = open[Math.floor(random() * open.length)]!;
      await this.publish(queue.streamId, queue.left.shift()!);
    }
  }

  async chunkLog(): Promise<ChunkRow[]> {
    const { rows } = await this.db.query<ChunkRow>(
      'SELECT stream_id, chunk_id, sequence::int AS sequence, processed_by, processed_at FROM stream_chunks ORDER BY stream_id, processed_at, sequence',
    );
    return rows;
  }

  /** `id:total_detections` per stream. */
  async registries(): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ stream_id: string; id: string; total_detections: number }>('SELECT stream_id, id, total_detections FROM horses WHERE merged_into IS NULL');
    const byStream = new Map<string, Array<{ id: string; totalDetections: number }>>();
    for (const row of rows) {
      const list = byStream.get(row.stream_id) ?? [];
      list.push({ id: row.id, totalDetections: Number(row.total_detections) });
      byStream.set(row.stream_id, list);
    }
    return new Map([...byStream].map(([streamId, horses]) => [streamId, registryString(horses)]));
  }

  async owners(): Promise<Map<string, string>> {
    const { rows } = await this.db.query<{ stream_id: string; owner: string }>('SELECT stream_id, owner FROM stream_leases WHERE expires_at > now()');
    return new Map(rows.map((row) => [row.stream_id, row.owner]));
  }

  /** Every log line of every process of replica `id`. */
  logsOf(id: string): Array<Record<string, unknown>> {
    return this.processes.filter((entry) => entry.id === id).flatMap((entry) => entry.daemon.logs);
  }

  allLogs(): Array<Record<string, unknown> & { replica: string }> {
    return this.processes.flatMap((entry) => entry.daemon.logs.map((line) => ({ ...line, replica: entry.id })));
  }

  async until(condition: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<number> {
    const started = Date.now();
    while (!(await condition())) {
      if (Date.now() - started > timeoutMs) {
        const tail = this.allLogs().filter((line) => Number(line.level) >= 40).slice(-10).map((line) => JSON.stringify(line)).join('\n');
        throw new Error(`${what}: not reached in ${timeoutMs} ms; ${(await this.chunkLog()).length} chunks in the log; warnings:\n${tail}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return Date.now() - started;
  }

  async close(): Promise<void> {
    for (const { daemon } of this.processes) if (daemon.child.exitCode === null && daemon.child.signalCode === null) daemon.child.kill('SIGKILL');
    await Promise.all(this.processes.map(({ daemon }) => daemon.exited));
    const jsm = await jetstreamManager(this.nc);
    await jsm.streams.delete(`${this.tag}_CHUNKS`).catch(() => {});
    await jsm.streams.delete(`${this.tag}_DLQ`).catch(() => {});
    await this.nc.close();
    await this.db.end();
    await this.dropDatabase();
    await rm(this.dir, { recursive: true, force: true });
  }
}
