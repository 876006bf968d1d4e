import { Registry } from 'prom-client';
import { createHttpServer } from '../src/http/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { createMetrics } from '../src/metrics/index.ts';
import { summarize, timeIt } from './stats.ts';

/**
 * What the daemon pays for its metrics: recording one chunk (every stage, overhead ratio, the
 * per-stream counters and gauges, ~20 inference runs) and serving one /metrics scrape with 200
 * streams, 50 of them labelled.
 */
export async function run(): Promise<void> {
  const metrics = createMetrics(new Registry(), { maxStreams: 50 });
  const streams = Array.from({ length: 200 }, (_, index) => `stream-${index}`);
  const timings = { load_registry: 3, decode: 540, detect: 310, embed: 120, track: 4, thumbnails: 7, persist: 5, total: 995 };
  let chunk = 0;
  const recordChunk = () => {
    const stream = streams[chunk % streams.length] ?? 'stream-0';
    chunk += 1;
    metrics.observeChunk(timings, 2);
    metrics.observeRegistryLoad('redis', 0.002);
    metrics.countChunk(stream, 'processed');
    metrics.countReidDecision(stream, 'continued', 3);
    metrics.setQueueDepth(stream, chunk % 3);
    metrics.recordLag(stream, new Date(Date.now() - 11_000));
    metrics.setRegistrySize(stream, { known: 12, active: 4 });
    for (let frame = 0; frame < 10; frame += 1) {
      metrics.observeInference('detector', 'cpu', 0.03);
      metrics.observeInference('reid', 'cpu', 0.004);
    }
  };

  console.log('metrics overhead');
  summarize('record one chunk (200 streams round-robin)', await timeIt(recordChunk, 2000, 200));

  const server = createHttpServer({ metricsRegistry: metrics.registry, readiness: async () => ({ ready: true, checks: {} }), port: 0, host: '127.0.0.1', logger: silentLogger() });
  const { url } = await server.start();
  try {
    summarize('GET /metrics (render + HTTP, loopback)', await timeIt(async () => (await fetch(`${url}/metrics`)).text(), 200, 10));
  } finally {
    await server.stop();
  }
}
