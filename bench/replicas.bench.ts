/**
 * `npm run bench -- replicas`: several `paddock run` processes sharing the streams (issue 12).
 *
 * 1. Throughput with 1, 2 and 3 replicas on the same chunk set (12 streams × 6 chunks of 2 s,
 *    synthetic 320×180, the project's models on CPU, one inference thread per replica), all
 *    published at once; chunks per second until the last is in the chunk log, the ratio to one
 *    replica and the scaling efficiency (ratio / replicas), and publish → persisted latency
 *    p50/p99. Two pipelines: `light` (one frame per chunk, PADDOCK_SAMPLE_FPS 0.5: what is left
 *    is ffmpeg's start, leases, hand-backs, JetStream and the registry) and `real` (5 fps, 10
 *    frames per chunk). The daemon has no switch that skips its pipeline altogether, and this
 *    benchmark does not add one: `light` is the nearest to a no-op the real process gets.
 * 2. Take-over after kill -9 (3 replicas, lease TTL 5 s, ack wait 5 s): for each stream the
 *    killed replica owned, the time from the kill until another replica holds its lease, and
 *    until that replica persisted its next chunk; p50/p99 over several kills.
 */
import { percentile } from './stats.ts';
import { Cluster } from '../test/cluster/cluster.ts';

const STREAMS = 12;
const CHUNKS = 6;
/** REPLICAS_BENCH_PIPELINES (light,real) and REPLICAS_BENCH_KILLS (0 skips the take-over part) narrow the run (not PADDOCK_*: the replicas inherit the environment and refuse unknown PADDOCK_ variables). */
const PIPELINES = (process.env.REPLICAS_BENCH_PIPELINES ?? 'light,real').split(',') as Array<'light' | 'real'>;
const KILLS = Number(process.env.REPLICAS_BENCH_KILLS ?? 4);
const REPLICA_COUNTS = (process.env.REPLICAS_BENCH_COUNTS ?? '1,2,3').split(',').map(Number);
const streamNames = (prefix: string) => Array.from({ length: STREAMS }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);
const sequences = Array.from({ length: CHUNKS }, (_, i) => i + 1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface ThroughputResult {
  replicas: number;
  chunksPerS: number;
  latencies: number[];
  /** Deliveries handed back to JetStream for another replica, per chunk. */
  handBacksPerChunk: number;
  /** Streams handed over to rebalance. */
  handOvers: number;
}

async function throughput(pipeline: 'light' | 'real', replicas: number): Promise<ThroughputResult> {
  const cluster = await Cluster.open({ chunks: CHUNKS, leaseTtlS: 5, ackWaitS: 5, env: { PADDOCK_SAMPLE_FPS: pipeline === 'light' ? '0.5' : '5', ...(process.env.REPLICAS_BENCH_ENV === undefined ? {} : (JSON.parse(process.env.REPLICAS_BENCH_ENV) as Record<string, string>)) } });
  try {
    for (let r = 1; r <= replicas; r += 1) await cluster.start(`r${r}`);
    const streams = streamNames('tp');
    const publishedAt = new Map<string, number>();
    const started = Date.now();
    for (const sequence of sequences) {
      for (const streamId of streams) {
        publishedAt.set(`${streamId}-${sequence}`, Date.now());
        await cluster.publish(streamId, sequence);
      }
    }
    await cluster.until(async () => (await cluster.chunkLog()).length === STREAMS * CHUNKS, 600_000, 'all chunks');
    const rows = await cluster.chunkLog();
    const last = Math.max(...rows.map((row) => row.processed_at.getTime()));
    const latencies = rows.map((row) => row.processed_at.getTime() - publishedAt.get(row.chunk_id)!);
    const logs = cluster.allLogs();
    return {
      replicas,
      chunksPerS: rows.length / ((last - started) / 1000),
      latencies,
      handBacksPerChunk: (await handBacks(cluster)) / rows.length,
      handOvers: logs.filter((line) => line.msg === 'handing the stream over to rebalance').length,
    };
  } finally {
    await cluster.close();
  }
}

/** paddock_chunks_handed_back_total summed over the running replicas' /metrics. */
async function handBacks(cluster: Cluster): Promise<number> {
  let total = 0;
  for (const daemon of cluster.replicas.values()) {
    const url = String(daemon.logs.find((line) => line.msg === 'http endpoints up')?.url);
    const text = await (await fetch(`${url}/metrics`)).text();
    for (const match of text.matchAll(/^paddock_chunks_handed_back_total\{[^}]*\} (\d+)/gm)) total += Number(match[1]);
  }
  return total;
}

async function takeover(): Promise<{ takeOver: number[]; nextChunk: number[] }> {
  const cluster = await Cluster.open({ chunks: CHUNKS, leaseTtlS: 5, ackWaitS: 5, env: { PADDOCK_SAMPLE_FPS: '2' } });
  const samples = { takeOver: [] as number[], nextChunk: [] as number[] };
  try {
    for (const id of ['r1', 'r2', 'r3']) await cluster.start(id);
    for (let kill = 0; kill < KILLS; kill += 1) {
      const streams = streamNames(`k${kill}`);
      // A steady load: one chunk per stream every second, so every stream has a next chunk after the kill.
      const load = (async () => {
        for (const sequence of [...sequences, ...sequences.map((s) => s + CHUNKS)]) {
          for (const streamId of streams) await cluster.publish(streamId, sequence);
          await sleep(1000);
        }
      })();
      await sleep(4000);
      const victim = `r${(kill % 3) + 1}`;
      const owned = [...(await cluster.owners())].filter(([streamId, owner]) => owner === victim && streams.includes(streamId)).map(([streamId]) => streamId);
      const killedAt = new Date();
      cluster.replicas.get(victim)!.child.kill('SIGKILL');
      await cluster.replicas.get(victim)!.exited;
      cluster.replicas.delete(victim);
      await load;
      await cluster.until(async () => (await cluster.chunkLog()).filter((row) => streams.includes(row.stream_id)).length === STREAMS * CHUNKS * 2, 300_000, 'all chunks of the round');
      const rows = await cluster.chunkLog();
      const round: string[] = [];
      for (const streamId of owned) {
        const next = rows.find((row) => row.stream_id === streamId && row.processed_at > killedAt);
        // The first acquisition after the kill (a later hand-over may move the stream again).
        const acquiredAt = Math.min(...cluster.allLogs().filter((line) => line.msg === 'stream lease acquired' && line.stream_id === streamId && line.replica !== victim && Number(line.time) > killedAt.getTime()).map((line) => Number(line.time)));
        if (next === undefined || !Number.isFinite(acquiredAt)) continue;
        samples.takeOver.push(acquiredAt - killedAt.getTime());
        samples.nextChunk.push(next.processed_at.getTime() - killedAt.getTime());
        round.push(`${((acquiredAt - killedAt.getTime()) / 1000).toFixed(1)} / ${((next.processed_at.getTime() - killedAt.getTime()) / 1000).toFixed(1)} s`);
      }
      console.log(`  kill ${kill + 1}: ${victim} owned ${owned.length} streams; taken over / next chunk persisted after ${round.join(', ')}`);
      await cluster.start(victim);
    }
  } finally {
    await cluster.close();
  }
  return samples;
}

export async function run(): Promise<void> {
  for (const pipeline of PIPELINES) {
    const results: ThroughputResult[] = [];
    for (const replicas of REPLICA_COUNTS) results.push(await throughput(pipeline, replicas));
    const base = results[0]!.chunksPerS;
    console.log(`\n${pipeline} pipeline, ${STREAMS} streams × ${CHUNKS} chunks of 2 s, all published at once (2 cores):`);
    console.log('replicas  chunks/s  ×1 replica  efficiency  latency p50 / p99 (publish → persisted)  hand-backs per chunk  hand-overs');
    for (const result of results) {
      const ratio = result.chunksPerS / base;
      console.log(
        `${String(result.replicas).padStart(8)}  ${result.chunksPerS.toFixed(2).padStart(8)}  ${ratio.toFixed(2).padStart(10)}  ${(ratio / result.replicas).toFixed(2).padStart(10)}  ${(percentile(result.latencies, 50) / 1000).toFixed(2)} s / ${(percentile(result.latencies, 99) / 1000).toFixed(2)} s  ${result.handBacksPerChunk.toFixed(2).padStart(20)}  ${String(result.handOvers).padStart(10)}`,
      );
    }
  }
  if (KILLS === 0) return;
  console.log(`\ntake-over after kill -9 (3 replicas, lease TTL 5 s, ack wait 5 s, ${KILLS} kills):`);
  const { takeOver, nextChunk } = await takeover();
  const line = (label: string, values: number[]) => console.log(`${label.padEnd(36)} n=${values.length}  p50=${(percentile(values, 50) / 1000).toFixed(2)} s  p99=${(percentile(values, 99) / 1000).toFixed(2)} s`);
  line('take-over (lease acquired elsewhere)', takeOver);
  line('next chunk persisted elsewhere', nextChunk);
  console.log('bound: TTL + a renewal round (TTL/3) for the take-over, plus the queue and one chunk for the next chunk');
}
