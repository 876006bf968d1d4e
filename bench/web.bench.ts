/**
 * Page load of a stream with 200 horses, on the loopback: the registry API on PostgreSQL served
 * by the HTTP server in a child process (as the daemon would serve it), the web app in Debian's
 * chromium (playwright-core). A load is timed in the page, from navigation start until the
 * gallery's first screenful of cards is rendered with its thumbnails loaded (the page's own mark); the time until all
 * 200 cards are built is printed beside it, and a blank page's load in the same tab as a baseline.
 * Cold: a new browser context (empty cache) per load; warm: a reload. The API calls behind it are
 * timed alone too. Target: ≤ 300 ms p95.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { silentLogger } from '../src/log/index.ts';
import { createPostgresDatabase } from '../src/registry/database.ts';
import { MemoryHotCache } from '../src/registry/memory-cache.ts';
import { migrate } from '../src/registry/migrations.ts';
import { SqlRegistryStore } from '../src/registry/sql-store.ts';
import { launchChromium } from '../test/browser/browser.ts';
import { chunk, featureBank, newHorseUpdate } from '../test/helpers/registry-fixtures.ts';
import { createScratchDatabase } from '../test/helpers/services.ts';
import { percentile, summarize, timeIt } from './stats.ts';

const HORSES = 200;
const STREAM = 'bench-web';
const TOKEN = 'bench-admin-token-0123456789';
const LOADS = Number(process.env.WEB_BENCH_LOADS ?? 40);
/** How often the driver asks the page for its marks (ms). */
const POLL_MS = 50;

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
  await store.close();
  const server = spawn(process.execPath, ['--import', 'tsx', path.join(path.dirname(fileURLToPath(import.meta.url)), 'web-server.ts'), scratch.url, TOKEN], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = Number(await new Promise<string>((resolve) => server.stdout!.once('data', (data: Buffer) => resolve(data.toString().trim()))));
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
    // The page as a person sees it: the gallery's first screenful of cards rendered with their
    // thumbnails loaded, which the page marks itself (gallery-first-screen-pictures) when the
    // first screen's pictures have loaded. In-page times from navigation start, so neither the
    // test driver's round trips nor the browser's tab set-up count; the driver asks for the marks
    // only every POLL_MS (a driver that checks every card's layout on every animation frame, as
    // this bench did until 2026-12-03, takes CPU the page loads with on a 2-core machine).
    const marks = () => {
      // (No named helper functions in here: the page cannot see the bundler's __name.)
      const shown = performance.getEntriesByName('gallery-first-screen-pictures')[0]?.startTime;
      const all = performance.getEntriesByName('gallery-rendered')[0]?.startTime;
      if (shown === undefined || all === undefined) return false;
      // The mark covers the cards the page built first; every card on screen must be among them.
      const visible = [...document.querySelectorAll('[data-testid="horse-card"]')].filter((card) => card.getBoundingClientRect().top < window.innerHeight);
      const images = visible.flatMap((card) => [...card.querySelectorAll<HTMLImageElement>('[data-testid="horse-thumb"]')]);
      const complete = images.length > 0 && images.every((image) => image.complete && image.naturalWidth > 0);
      return { shown, all, cards: performance.getEntriesByName('gallery-first-screen')[0]!.startTime, complete };
    };
    const signIn = async (context: Awaited<ReturnType<typeof browser.newContext>>) => {
      await context.request.post(`${base}/api/session`, { data: { token: TOKEN } });
    };
    const loadOnce = async (page: Awaited<ReturnType<typeof browser.newPage>>, reload: boolean) => {
      if (reload) await page.reload({ waitUntil: 'commit' });
      else await page.goto(url, { waitUntil: 'commit' });
      const result = (await (await page.waitForFunction(marks, undefined, { polling: POLL_MS })).jsonValue()) as { shown: number; all: number; cards: number; complete: boolean };
      if (!result.complete) throw new Error('the first screen was marked complete while a card on screen had no picture');
      return result;
    };

    const blankServer = http.createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>blank</title><p>blank</p>'));
    await new Promise<void>((resolve) => blankServer.listen(0, '127.0.0.1', () => resolve()));
    const blankUrl = `http://127.0.0.1:${(blankServer.address() as { port: number }).port}/`;
    const blank: number[] = [];
    const cold: number[] = [];
    const coldAll: number[] = [];
    const coldCards: number[] = [];
    for (let i = 0; i < LOADS + 3; i += 1) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
      await signIn(context);
      const page = await context.newPage();
      await page.goto(blankUrl, { waitUntil: 'load' });
      const blankLoad = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).loadEventEnd);
      const { shown, all, cards } = await loadOnce(page, false);
      if (i >= 3) {
        blank.push(blankLoad);
        cold.push(shown);
        coldAll.push(all);
        coldCards.push(cards);
      }
      await context.close();
    }
    blankServer.close();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await signIn(context);
    const page = await context.newPage();
    await loadOnce(page, false);
    const warm: number[] = [];
    const warmAll: number[] = [];
    const warmCards: number[] = [];
    for (let i = 0; i < LOADS + 3; i += 1) {
      const { shown, all, cards } = await loadOnce(page, true);
      if (i >= 3) {
        warm.push(shown);
        warmAll.push(all);
        warmCards.push(cards);
      }
    }
    // Opening the gallery in a new tab of a browser that has been to the page before (its cache
    // holds the content-hashed assets and thumbnails): what a person returning to it sees.
    const tab: number[] = [];
    const tabAll: number[] = [];
    const tabCards: number[] = [];
    for (let i = 0; i < LOADS + 3; i += 1) {
      const fresh = await context.newPage();
      const { shown, all, cards } = await loadOnce(fresh, false);
      if (i >= 3) {
        tab.push(shown);
        tabAll.push(all);
        tabCards.push(cards);
      }
      await fresh.close();
    }
    console.log(`page load of a stream with ${HORSES} horses, from navigation start (in-page clock):`);
    summarize('baseline: a blank page, new tab (load event)', blank);
    summarize('first screen shown, first visit (new context, empty cache)', cold);
    summarize('first screen shown, new tab (cache from earlier visits)', tab);
    summarize('first screen shown, reload', warm);
    summarize('first screen of cards laid out (pictures loading), first visit', coldCards);
    summarize('first screen of cards laid out (pictures loading), new tab', tabCards);
    summarize('first screen of cards laid out (pictures loading), reload', warmCards);
    summarize(`all ${HORSES} cards built, new context`, coldAll);
    summarize(`all ${HORSES} cards built, new tab`, tabAll);
    summarize(`all ${HORSES} cards built, reload`, warmAll);
    const p95 = (samples: number[]) => percentile(samples, 95).toFixed(1);
    console.log(
      `p95 of the first screen: first visit ${p95(cold)} ms (${(percentile(cold, 95) / percentile(blank, 95)).toFixed(2)}× a blank page's ${p95(blank)} ms), ` +
        `new tab ${p95(tab)} ms, reload ${p95(warm)} ms; all cards ${p95(coldAll)} / ${p95(tabAll)} / ${p95(warmAll)} ms (target ≤ 300 ms)`,
    );
    await context.close();
  } finally {
    await browser.close();
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
    await scratch.drop();
  }
}
