/**
 * `npm run bench -- streams`: how many 5 fps camera streams one daemon process sustains in real
 * time on this machine, and the chunk latency at each load.
 *
 * N streams replay the real clip paddock-2horses (handheld, two horses, always moving: no frame is
 * held by motion gating) with the shared YOLOX-nano + OSNet on CPU, through one pipeline and the
 * real supervisor (one stream actor each, the embedded registry). Each stream's chunk k is
 * published when it would have ended in real time, the streams staggered over one chunk length
 * like unsynchronised cameras. Latency is publish → persisted and acked. A load is sustained when
 * the p99 latency stays within one chunk length and the backlog does not grow (the last round's
 * latencies are not above the first's by more than a chunk). Chunk lengths 5 s and 10 s.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startSupervisor } from '../machines/supervisor-host.ts';
import type { ChunkDelivery, ChunkEvent, DeliveryPort } from '../machines/types.ts';
import { loadConfig } from '../src/config/index.ts';
import { planFileChunks } from '../src/daemon/run-files.ts';
import { supervisorOptionsFrom } from '../src/daemon/supervisor-options.ts';
import { silentLogger } from '../src/log/index.ts';
import { openPipeline } from '../src/pipeline/index.ts';
import { cutClip, REAL_DIR, SHARED } from '../test/quality/real-clips.ts';
import { percentile } from './stats.ts';

/** PADDOCK_BENCH_STREAMS (e.g. 1,4,8,16 on a GPU) and PADDOCK_BENCH_EP (e.g. cuda,cpu; bench/gpu.sh) override these. */
const STREAM_COUNTS = (process.env.PADDOCK_BENCH_STREAMS ?? '1,2,3,4,6').split(',').map(Number);
const EXECUTION_PROVIDERS = process.env.PADDOCK_BENCH_EP ?? 'cpu';
const CHUNK_LENGTHS_S = [5, 10];
/** Each stream plays the 14 s clip this many times in a row (sequence and time continue). */
const LOOPS = 2;

interface Published {
  event: ChunkEvent;
  publishAt: number;
  round: number;
}

class LatencyPort implements DeliveryPort {
  readonly latencies = new Map<string, number>();
  readonly failures: string[] = [];
  private done: () => void = () => {};
  readonly finished: Promise<void>;

  constructor(
    private readonly published: Map<string, Published>,
    private readonly total: number,
  ) {
    this.finished = new Promise((resolve) => {
      this.done = resolve;
    });
  }

  ack(delivery: ChunkDelivery): void {
    const sent = this.published.get(delivery.event.chunkId)!;
    this.latencies.set(delivery.event.chunkId, performance.now() - sent.publishAt);
    this.settle();
  }

  deadLetter(delivery: ChunkDelivery, reason: string): void {
    this.failures.push(`${delivery.event.chunkId}: ${reason}`);
    this.settle();
  }

  nak(delivery: ChunkDelivery): void {
    this.failures.push(`${delivery.event.chunkId}: given back`);
    this.settle();
  }

  working(): void {}

  private settle(): void {
    if (this.latencies.size + this.failures.length === this.total) this.done();
  }
}

async function runLoad(
  files: string[],
  streams: number,
  chunkS: number,
  root: string,
): Promise<{ latencies: number[]; firstRound: number[]; lastRound: number[]; failures: string[]; providers: string }> {
  const config = loadConfig({
    PADDOCK_DATA_DIR: path.join(root, `data-${streams}-${chunkS}`),
    PADDOCK_SAMPLE_FPS: '5',
    PADDOCK_LOG_LEVEL: 'silent',
    PADDOCK_EP: EXECUTION_PROVIDERS,
    PADDOCK_DETECTOR_MODEL: path.join(SHARED, 'models', 'yolox_nano_416x416.onnx'),
    PADDOCK_REID_MODEL: path.join(SHARED, 'models', 'osnet_x0_25_msmt17.onnx'),
  });
  const logger = silentLogger();
  const plan = await planFileChunks(config, 'bench', files, null);
  const pipeline = await openPipeline({ config, logger, migrations: 'apply' });
  const providers = `detector ${pipeline.models.detector.provider}, reid ${pipeline.models.embedder.provider}`;
  const published = new Map<string, Published>();
  const schedule: Published[] = [];
  const t0 = performance.now() + 500;
  for (let s = 0; s < streams; s += 1) {
    const stagger = (s * chunkS * 1000) / streams;
    let endS = 0;
    let sequence = 0;
    for (let loop = 0; loop < LOOPS; loop += 1) {
      plan.events.forEach((template, k) => {
        sequence += 1;
        const startS = endS;
        endS += template.durationS;
        const event: ChunkEvent = {
          streamId: `camera-${s + 1}`,
          chunkId: `camera-${s + 1}-${sequence}`,
          sequence,
          uri: template.uri,
          startTime: new Date(Date.parse('2026-12-02T08:00:00Z') + startS * 1000),
          durationS: template.durationS,
        };
        const entry = { event, publishAt: t0 + stagger + endS * 1000, round: loop * plan.events.length + k };
        published.set(event.chunkId, entry);
        schedule.push(entry);
      });
    }
  }
  const port = new LatencyPort(published, schedule.length);
  const supervisor = startSupervisor({
    effects: pipeline.effects,
    port,
    options: supervisorOptionsFrom(config),
    onError: (error) => port.failures.push(`supervisor: ${(error as Error).message}`),
  });
  const timers = schedule.map((entry) =>
    setTimeout(
      () => {
        entry.publishAt = performance.now();
        supervisor.send({ event: entry.event, deliveryCount: 1, handle: entry.event.chunkId });
      },
      Math.max(0, entry.publishAt - performance.now()),
    ),
  );
  try {
    await port.finished;
  } finally {
    timers.forEach(clearTimeout);
    await supervisor.stop().catch(() => {});
    await pipeline.close();
  }
  const rounds = Math.max(...schedule.map((entry) => entry.round));
  const latencyOf = (entry: Published) => port.latencies.get(entry.event.chunkId) ?? Number.NaN;
  return {
    latencies: [...port.latencies.values()],
    firstRound: schedule.filter((entry) => entry.round === 0).map(latencyOf),
    lastRound: schedule.filter((entry) => entry.round === rounds).map(latencyOf),
    failures: port.failures,
    providers,
  };
}

export async function run(): Promise<void> {
  const root = await mkdtemp(path.join(tmpdir(), 'paddock-bench-streams-'));
  try {
    const clip = path.join(REAL_DIR, 'paddock-2horses', 'clip.mp4');
    let providersShown = false;
    console.log(`${'chunk'.padStart(5)} ${'streams'.padStart(7)} ${'chunks'.padStart(6)} ${'latency p50'.padStart(12)} ${'p99'.padStart(9)} ${'max'.padStart(9)} ${'last round − first (max)'.padStart(25)}  sustained`);
    for (const chunkS of CHUNK_LENGTHS_S) {
      const files = await cutClip(clip, chunkS, path.join(root, `cut-${chunkS}`));
      for (const streams of STREAM_COUNTS) {
        const result = await runLoad(files, streams, chunkS, root);
        if (!providersShown) console.log(`(${result.providers}; asked for ${EXECUTION_PROVIDERS})`);
        providersShown = true;
        const p99 = percentile(result.latencies, 99);
        const growth = Math.max(...result.lastRound) - Math.max(...result.firstRound);
        const sustained = result.failures.length === 0 && p99 <= chunkS * 1000 && growth <= chunkS * 1000;
        console.log(
          `${`${chunkS} s`.padStart(5)} ${String(streams).padStart(7)} ${String(result.latencies.length).padStart(6)} ${`${(percentile(result.latencies, 50) / 1000).toFixed(2)} s`.padStart(12)} ${`${(p99 / 1000).toFixed(2)} s`.padStart(9)} ${`${(Math.max(...result.latencies) / 1000).toFixed(2)} s`.padStart(9)} ${`${(growth / 1000).toFixed(2)} s`.padStart(25)}  ${sustained ? 'yes' : 'no'}${result.failures.length > 0 ? ` (${result.failures.length} failed: ${result.failures[0]})` : ''}`,
        );
        if (!sustained && streams > 1) break;
      }
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
