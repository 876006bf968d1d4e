/**
 * The web app in a real browser (Debian's chromium, driven by playwright-core) against a real
 * daemon (`paddock run --watch`, PostgreSQL) that processed a synthetic stream: sign in, see the
 * thumbnails, rename a horse, merge two, split one back, and receive a live update when the next
 * chunk adds horses. Screenshots of each step go to artifacts/browser/.
 */
import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../src/config/index.ts';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import { startDaemonProcess, type DaemonProcess } from '../helpers/daemon-process.ts';
import { freePort } from '../helpers/ports.ts';
import { createScratchDatabase, serviceAvailable } from '../helpers/services.ts';
import { browserAvailable, launchChromium } from './browser.ts';

const STREAM = 'cam-web';
const ADMIN_TOKEN = 'browser-admin-token-0123456789';
const READ_TOKEN = 'browser-read-token-0123456789';
const ARTIFACTS = path.join(PROJECT_ROOT, 'artifacts', 'browser');
const run = (await serviceAvailable('postgres')) && browserAvailable();

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe.skipIf(!run)('web app in a browser', { timeout: 240_000 }, () => {
  let work: string;
  let daemon: DaemonProcess;
  let dropDb: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let baseUrl: string;
  let laterChunk: string;
  const api = async (method: string, route: string, body?: unknown): Promise<Json> => {
    const response = await fetch(`${baseUrl}${route}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return (await response.json()) as Json;
  };
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  const cards = () => page.locator('[data-testid="horse-card"]');
  const chunksPersisted = () => daemon.logs.filter((line) => line.msg === 'chunk persisted').length;

  beforeAll(async () => {
    await mkdir(ARTIFACTS, { recursive: true });
    work = await mkdtemp(path.join(os.tmpdir(), 'paddock-web-'));
    // Chunk 1 from a scene of 2 horses; the "next chunk" from the same seed's scene of 5 horses,
    // which adds horses the registry has never seen.
    const first = await writeSyntheticStream({ outDir: path.join(work, 'a'), horses: 2, chunks: 1, secondsPerChunk: 10, fps: 5, seed: 7 });
    const second = await writeSyntheticStream({ outDir: path.join(work, 'b'), horses: 5, chunks: 1, secondsPerChunk: 10, fps: 5, seed: 7 });
    laterChunk = second.chunks[0]!;
    await mkdir(path.join(work, 'watch', STREAM), { recursive: true });
    await copyFile(first.chunks[0]!, path.join(work, 'watch', STREAM, 'chunk_0001.mp4'));

    const scratch = await createScratchDatabase();
    dropDb = scratch.drop;
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    daemon = startDaemonProcess(
      { DATABASE_URL: scratch.url, PADDOCK_HTTP_PORT: String(port), PADDOCK_HTTP_HOST: '127.0.0.1', PADDOCK_API_TOKENS: `admin:${ADMIN_TOKEN},read:${READ_TOKEN}`, PADDOCK_DATA_DIR: work, PADDOCK_LOG_LEVEL: 'info' },
      ['--watch', path.join(work, 'watch')],
    );
    await daemon.waitForLog((line) => line.msg === 'chunk persisted', 120_000);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    if (daemon !== undefined) {
      daemon.child.kill('SIGTERM');
      await daemon.exited;
    }
    await dropDb?.();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  it('signs in with a token and shows the stream, then its gallery with thumbnails', async () => {
    await page.goto(`${baseUrl}/`);
    await page.locator('[data-testid="login-form"]').waitFor();
    await shot('01-sign-in');
    await page.locator('[data-testid="token-input"]').fill(ADMIN_TOKEN);
    await page.locator('[data-testid="token-input"]').press('Enter');
    const link = page.locator(`[data-testid="stream-link"][data-stream-id="${STREAM}"]`);
    await link.waitFor();
    await shot('02-streams');
    await link.click();
    await page.waitForFunction(() => document.body.dataset.ready?.startsWith('gallery:'));
    const registry = await api('GET', `/api/streams/${STREAM}/horses`);
    expect(registry.horses.length).toBeGreaterThanOrEqual(2);
    await expect.poll(() => cards().count()).toBe(registry.horses.length);
    // Every horse with a thumbnail shows it, loaded.
    const withThumbs = registry.horses.filter((horse: Json) => horse.thumbnail_url !== null).length;
    expect(withThumbs).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => page.locator('[data-testid="horse-thumb"]').evaluateAll((images) => images.filter((image) => (image as HTMLImageElement).naturalWidth > 0).length))
      .toBe(withThumbs);
    await shot('03-gallery');
  });

  it('renames a horse inline', async () => {
    const card = cards().first();
    const id = (await card.getAttribute('data-horse-id'))!;
    await card.locator('[data-testid="horse-name"]').click();
    const input = card.locator('[data-testid="rename-input"]');
    await input.fill('Bella <b>the</b> bold');
    await input.press('Enter');
    await expect.poll(() => page.locator(`[data-testid="horse-card"][data-horse-id="${id}"] [data-testid="horse-name"]`).textContent()).toBe('Bella <b>the</b> bold');
    expect((await api('GET', `/api/streams/${STREAM}/horses/${id}`)).name).toBe('Bella <b>the</b> bold');
    await shot('04-renamed');
  });

  it('merges two horses, then splits the merged one back from its horse page', async () => {
    const before = (await api('GET', `/api/streams/${STREAM}/horses`)).horses as Json[];
    const [keep, drop] = [before[0]!.id as string, before[1]!.id as string];
    const dropSightings = ((await api('GET', `/api/streams/${STREAM}/horses/${drop}`)).sightings as Json[]).map((sighting) => sighting.id as number);
    expect(dropSightings.length).toBeGreaterThan(0);

    await page.locator(`[data-testid="horse-card"][data-horse-id="${keep}"] [data-testid="horse-select"]`).check();
    await page.locator(`[data-testid="horse-card"][data-horse-id="${drop}"] [data-testid="horse-select"]`).check();
    await page.locator('[data-testid="merge-button"]').click();
    await page.locator(`[data-testid="keep-choice"][data-horse-id="${keep}"]`).click();
    await expect.poll(() => cards().count()).toBe(before.length - 1);
    expect(((await api('GET', `/api/streams/${STREAM}/horses`)).horses as Json[]).map((horse) => horse.id)).not.toContain(drop);
    await shot('05-merged');

    await page.locator(`[data-testid="horse-card"][data-horse-id="${keep}"] a`).first().click();
    await page.locator(`[data-testid="horse-page"][data-horse-id="${keep}"]`).waitFor();
    await page.waitForFunction(() => document.body.dataset.ready?.startsWith('horse:'));
    await shot('06-horse-page-merged');
    for (const sighting of dropSightings) await page.locator(`[data-testid="sighting"][data-sighting-id="${sighting}"] [data-testid="sighting-select"]`).check();
    await page.locator('[data-testid="split-button"]').click();
    // The page moves to the new horse, which holds exactly the picked sightings.
    await page.waitForFunction((id) => {
      const root = document.querySelector('[data-testid="horse-page"]');
      return root !== null && root.getAttribute('data-horse-id') !== id;
    }, keep);
    const created = (await page.locator('[data-testid="horse-page"]').getAttribute('data-horse-id'))!;
    const createdHorse = await api('GET', `/api/streams/${STREAM}/horses/${created}`);
    expect((createdHorse.sightings as Json[]).map((sighting) => sighting.id).sort()).toEqual([...dropSightings].sort());
    await page.waitForFunction(() => document.body.dataset.ready?.startsWith('horse:'));
    await expect.poll(() => page.locator('[data-testid="exemplar"]').count()).toBeGreaterThan(0);
    await shot('07-horse-page-split');
  });

  it('shows the horses of the next chunk live, without a reload', async () => {
    await page.goto(`${baseUrl}/#/streams/${STREAM}`);
    await page.waitForFunction(() => document.body.dataset.ready?.startsWith('gallery:'));
    const before = await cards().count();
    const liveBefore = Number((await page.evaluate(() => document.body.dataset.liveEvents)) ?? 0);
    const navigations: string[] = [];
    page.on('framenavigated', (frame) => navigations.push(frame.url()));
    const persisted = chunksPersisted();
    await copyFile(laterChunk, path.join(work, 'watch', STREAM, 'chunk_0002.mp4'));
    await daemon.waitForLog(() => chunksPersisted() > persisted, 120_000);
    await expect.poll(() => cards().count(), { timeout: 20_000 }).toBeGreaterThan(before);
    expect(Number(await page.evaluate(() => document.body.dataset.liveEvents))).toBeGreaterThan(liveBefore);
    await expect.poll(() => page.locator('[data-testid="toast"]').count()).toBeGreaterThan(0);
    expect(navigations).toEqual([]);
    await shot('08-live-update');
  });

  it('offers a read token no changes (signed in on the gallery URL itself)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const reader = await context.newPage();
      await reader.goto(`${baseUrl}/#/streams/${STREAM}`);
      await reader.locator('[data-testid="token-input"]').fill(READ_TOKEN);
      await reader.locator('[data-testid="token-input"]').press('Enter');
      await reader.waitForFunction(() => document.body.dataset.ready?.startsWith('gallery:'));
      expect(await reader.locator('[data-testid="horse-card"]').count()).toBeGreaterThan(0);
      for (const control of ['merge-button', 'undo-button', 'herd-input', 'horse-select', 'official-toggle']) {
        expect(await reader.locator(`[data-testid="${control}"]`).count(), control).toBe(0);
      }
      await reader.locator('[data-testid="horse-name"]').first().click();
      expect(await reader.locator('[data-testid="rename-input"]').count()).toBe(0);
      await reader.screenshot({ path: path.join(ARTIFACTS, '10-read-only.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });

  it('fits a phone screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${baseUrl}/#/streams/${STREAM}`);
    await page.waitForFunction(() => document.body.dataset.ready?.startsWith('gallery:'));
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot('09-phone');
  });
});
