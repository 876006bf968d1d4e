/**
 * Page load of a stream with 200 horses, on the loopback: the daemon's HTTP server with the
 * registry API on PostgreSQL, the web app in Debian's chromium (playwright-core). A load is timed
 * from navigation until every horse card is rendered and every thumbnail in the viewport has
 * loaded. Cold: a new browser context (empty cache) per load; warm: a reload. The API calls behind
 * it are timed alone too. Target: ≤ 300 ms p95.
 */
import { Registry } from 'prom-client';
import sharp from 'sharp';
import { ApiAuth, createHttpServer } from '../src/http/index.ts';
import { silentLogger } from '../src/log/index.ts';
import { createPostgresDatabase } from '../src/registry/database.ts';
import { MemoryHotCache } from '../src/registry/memory-cache.ts';
import { migrate } from '../src/registry/migrations.ts';
import { SqlRegistryStore } from '../src/registry/sql-store.ts';
import { EventHub } from '../src/sources/index.ts';
import { launchChromium } from '../test/browser/browser.ts';
import { chunk, featureBank, newHorseUpdate } from '../test/helpers/registry-fixtures.ts';
import { createScratchDatabase } from '../test/helpers/services.ts';
import { percentile, summarize, timeIt } from './stats.ts';

const HORSES = 200;
const STREAM = 'bench-web';
const TOKEN = 'bench-admin-token-0123456789';
const LOADS = Number(process.env.WEB_BENCH_LOADS ?? 40);

async function avatar(i: number): Promise<Buffer> {
  // A textured 200×200 JPEG (~10 KB), like a real avatar rather than a flat colour.
  const size = 200;
  const pixels = Buffer.alloc(size * size * 3);
  for (let p = 0; p < size * size; p += 1) {
    const x = p % size;
    const y = Math.floor(p / size);
    pixels[p * 3] = (x * 3 + i * 37) & 255;
    pixels[p * 3 + 1] = (y * 5 + i * 11) & 255;
    pixels[p * 3 + 2] = ((x ^ y) + i) & 255;
  }
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).jpeg({ quality: 80 }).toBuffer();
}

export async function run(): Promise<void> {
  const scratch = await createScratchDatabase();
  const db = createPostgresDatabase(scratch.url);
  await migrate(db);
  const logger = silentLogger();
  const store = new SqlRegistryStore(db, new MemoryHotCache({ ttlSeconds: 300, indexSize: 50 }), logger, { maxExemplars: 8 });
  const updates = await Promise.all(
    Array.from({ length: HORSES }, async (_, i) => {
      const thumbnail = await avatar(i);
      return newHorseUpdate(i + 1, { dim: 512, features: featureBank(512, i + 1), thumbnail, thumbnailQuality: 1 });
    }),
  );
  await store.saveChunk(chunk(STREAM, 1), updates);
  const server = createHttpServer({
    metricsRegistry: new Registry(),
    readiness: async () => ({ ready: true, checks: {} }),
    port: 0,
    host: '127.0.0.1',
    logger,
    api: { store: () => store, auth: new ApiAuth([{ scope: 'admin', token: TOKEN }]), feed: new EventHub(logger), events: () => null, logger },
  });
  const { port } = await server.start();
  const base = `http://127.0.0.1:${port}`;
  const browser = await launchChromium();
  try {
    const headers = { authorization: `Bearer ${TOKEN}` };
    const list = await timeIt(async () => (await fetch(`${base}/api/streams/${STREAM}/horses`, { headers })).json(), 50, 5);
    const thumb = await timeIt(async () => (await fetch(`${base}/api/streams/${STREAM}/horses/horse_001/thumbnail`, { headers })).arrayBuffer(), 50, 5);
    console.log(`API, ${HORSES} horses:`);
    summarize('GET /api/streams/{s}/horses (JSON, 200 horses)', list);
    summarize('GET …/horses/{id}/thumbnail (one JPEG)', thumb);

    const url = `${base}/#/streams/${STREAM}`;
    const rendered = () =>
      // Every card is there, and every thumbnail in the viewport has loaded.
      document.querySelectorAll('[data-testid="horse-card"]').length >= 200 &&
      [...document.querySelectorAll<HTMLImageElement>('[data-testid="horse-thumb"]')]
        .filter((image) => image.getBoundingClientRect().top < window.innerHeight)
        .every((image) => image.complete && image.naturalWidth > 0);
    const signIn = async (context: Awaited<ReturnType<typeof browser.newContext>>) => {
      await context.request.post(`${base}/api/session`, { data: { token: TOKEN } });
    };
    const loadOnce = async (page: Awaited<ReturnType<typeof browser.newPage>>, reload: boolean) => {
      const started = performance.now();
      if (reload) await page.reload({ waitUntil: 'commit' });
      else await page.goto(url, { waitUntil: 'commit' });
      await page.waitForFunction(rendered, undefined, { polling: 'raf' });
      return performance.now() - started;
    };

    const cold: number[] = [];
    for (let i = 0; i < LOADS + 3; i += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await signIn(context);
      const page = await context.newPage();
      const ms = await loadOnce(page, false);
      if (i >= 3) cold.push(ms);
      await context.close();
    }
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await signIn(context);
    const page = await context.newPage();
    await loadOnce(page, false);
    const warm: number[] = [];
    for (let i = 0; i < LOADS + 3; i += 1) {
      const ms = await loadOnce(page, true);
      if (i >= 3) warm.push(ms);
    }
    console.log(`page load of a stream with ${HORSES} horses (navigation → all cards rendered, thumbnails in view loaded):`);
    summarize('cold (new context, empty cache)', cold);
    summarize('warm (reload)', warm);
    console.log(`p95: cold ${percentile(cold, 95).toFixed(1)} ms, warm ${percentile(warm, 95).toFixed(1)} ms (target ≤ 300 ms)`);
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
    await store.close();
    await scratch.drop();
  }
}
