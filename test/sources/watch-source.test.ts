import { copyFile, mkdir, readFile, readdir, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log/index.ts';
import { openWatchSource } from '../../src/sources/index.ts';
import type { WatchSource, WatchSourceOptions } from '../../src/sources/index.ts';
import { isFileComplete, sequenceFromName, sortChunkNames } from '../../src/sources/watch-plan.ts';
import type { ChunkDelivery } from '../../machines/types.ts';
import { makeTempDir, makeTestsrc } from '../video/fixtures.ts';
import { Puller, waitFor } from './helpers.ts';

describe('watch plan', () => {
  it('orders chunk files by name with numbers as numbers and reads the sequence from the name', () => {
    expect(sortChunkNames(['chunk_10.mp4', 'chunk_9.mp4', 'chunk_0001.mp4'])).toEqual(['chunk_0001.mp4', 'chunk_9.mp4', 'chunk_10.mp4']);
    expect(sequenceFromName('chunk_0007.mp4')).toBe(7);
    expect(sequenceFromName('cam2_part_12.mp4')).toBe(12);
    expect(sequenceFromName('morning.mp4')).toBeUndefined();
  });

  it('calls a file complete when a later one exists or its size settled', () => {
    expect(isFileComplete({ size: 10, stableSinceMs: 1000 }, 1500, 1000, false)).toBe(false);
    expect(isFileComplete({ size: 10, stableSinceMs: 1000 }, 2000, 1000, false)).toBe(true);
    expect(isFileComplete({ size: 0, stableSinceMs: 0 }, 9000, 1000, false)).toBe(false);
    expect(isFileComplete({ size: 0, stableSinceMs: 1000 }, 1001, 1000, true)).toBe(true);
  });
});

describe('watched-folder source', () => {
  let video: string;
  const sources: WatchSource[] = [];

  beforeAll(async () => {
    video = await makeTestsrc(await makeTempDir('paddock-watch-src-'), 'clip.mp4', { width: 64, height: 48, fps: 10, seconds: 2 });
  });

  afterEach(async () => {
    for (const source of sources.splice(0)) await source.close();
  });

  async function open(dir: string, options: Partial<WatchSourceOptions> = {}) {
    const deadLettered: Array<[string, string]> = [];
    const redelivered: string[] = [];
    const source = await openWatchSource({
      dir,
      logger: silentLogger(),
      settleMs: 300,
      rescanMs: 100,
      defaultDurationS: 7,
      hooks: { onDeadLetter: (streamId, reason) => deadLettered.push([streamId, reason]), onRedelivery: (streamId) => redelivered.push(streamId) },
      ...options,
    });
    sources.push(source);
    return { source, puller: Puller.of<ChunkDelivery>(source), deadLettered, redelivered };
  }

  /** A file written long enough ago to count as complete. */
  async function oldFile(file: string, from?: string): Promise<void> {
    await mkdir(path.dirname(file), { recursive: true });
    if (from === undefined) await writeFile(file, 'not a video');
    else await copyFile(from, file);
    const past = new Date(Date.now() - 60_000);
    await utimes(file, past, past);
  }

  it('picks up existing files per stream in name order, with ids, sequences and probed durations', async () => {
    const dir = await makeTempDir('paddock-watch-');
    await oldFile(path.join(dir, 'cam1', 'chunk_10.mp4'));
    await oldFile(path.join(dir, 'cam1', 'chunk_2.mp4'), video);
    await oldFile(path.join(dir, 'cam1', '.hidden.mp4'));
    await oldFile(path.join(dir, 'cam1', 'notes.txt'));
    await oldFile(path.join(dir, 'bad name', 'chunk_1.mp4'));
    const { puller } = await open(dir);

    const first = await puller.value(5000);
    const second = await puller.value(5000);
    expect(await puller.next(400)).toBe('timeout');

    const mtime = (await stat(path.join(dir, 'cam1', 'chunk_2.mp4'))).mtimeMs;
    expect(first.event).toMatchObject({ streamId: 'cam1', chunkId: 'cam1/chunk_2', sequence: 2, uri: path.join(dir, 'cam1', 'chunk_2.mp4') });
    expect(first.event.durationS).toBeCloseTo(2, 1);
    expect(first.event.startTime.getTime()).toBeCloseTo(mtime - first.event.durationS * 1000, -1);
    expect(first.deliveryCount).toBe(1);
    // Not a video: the default duration, and the machines fail it later.
    expect(second.event).toMatchObject({ chunkId: 'cam1/chunk_10', sequence: 10, durationS: 7 });
  });

  it('holds a file back until its size settles', async () => {
    const dir = await makeTempDir('paddock-watch-');
    await mkdir(path.join(dir, 'cam2'));
    const { puller } = await open(dir, { settleMs: 600 });
    await writeFile(path.join(dir, 'cam2', 'a.mp4'), 'partial');
    const writtenAt = Date.now();
    expect(await puller.next(300)).toBe('timeout');
    const a = await puller.value(3000);
    expect(Date.now() - writtenAt).toBeGreaterThanOrEqual(550);
    // No number in the name: the position in name order.
    expect(a.event).toMatchObject({ chunkId: 'cam2/a', sequence: 0 });
  });

  it('releases a file as soon as a later file of its stream appears', async () => {
    const dir = await makeTempDir('paddock-watch-');
    await mkdir(path.join(dir, 'cam2'));
    const { puller } = await open(dir, { settleMs: 5000 });
    await writeFile(path.join(dir, 'cam2', 'b.mp4'), 'closed by the segmenter');
    expect(await puller.next(300)).toBe('timeout');
    await writeFile(path.join(dir, 'cam2', 'c.mp4'), 'being written');
    const b = await puller.value(2500);
    expect(b.event).toMatchObject({ chunkId: 'cam2/b', sequence: 0 });
    expect(await puller.next(300)).toBe('timeout');
  });

  it('offers a nak’d file again after the delay, and forgets an acked one', async () => {
    const dir = await makeTempDir('paddock-watch-');
    await oldFile(path.join(dir, 'cam3', 'chunk_0001.mp4'));
    const { source, puller, redelivered } = await open(dir);
    const first = await puller.value(5000);
    const nakAt = Date.now();
    source.nak(first, 300);
    const again = await puller.value(3000);
    expect(Date.now() - nakAt).toBeGreaterThanOrEqual(280);
    expect(again.event).toEqual(first.event);
    expect(again.deliveryCount).toBe(2);
    expect(redelivered).toEqual(['cam3']);
    source.ack(again);
    expect(await puller.next(400)).toBe('timeout');
  });

  it('moves a dead-lettered file to .failed with its reason', async () => {
    const dir = await makeTempDir('paddock-watch-');
    const file = path.join(dir, 'cam4', 'chunk_0003.mp4');
    await oldFile(file);
    const { source, puller, deadLettered } = await open(dir);
    const delivery = await puller.value(5000);
    source.deadLetter(delivery, 'VIDEO_INVALID: not a video');
    await source.close();
    expect(await readdir(path.join(dir, 'cam4'))).toEqual(['.failed']);
    expect((await readdir(path.join(dir, 'cam4', '.failed'))).sort()).toEqual(['chunk_0003.mp4', 'chunk_0003.mp4.reason.txt']);
    const note = await readFile(path.join(dir, 'cam4', '.failed', 'chunk_0003.mp4.reason.txt'), 'utf8');
    expect(note).toMatch(/^VIDEO_INVALID: not a video\n/);
    expect(note).toContain('chunk_id: cam4/chunk_0003');
    expect(deadLettered).toEqual([['cam4', 'VIDEO_INVALID: not a video']]);
  });

  it('sees streams and files that appear after the start, and ends the iteration on stop()', async () => {
    const dir = await makeTempDir('paddock-watch-');
    const { source, puller } = await open(dir);
    await oldFile(path.join(dir, 'cam5', 'chunk_1.mp4'));
    const delivery = await waitFor(async () => {
      const next = await puller.next(200);
      return next === 'timeout' ? undefined : next;
    }, 5000, 'a new stream folder');
    expect(delivery).toMatchObject({ event: { chunkId: 'cam5/chunk_1' } });
    await source.stop();
    expect(await puller.next(500)).toBe('done');
  });

  it('refuses a missing folder as bad usage', async () => {
    await expect(openWatchSource({ dir: '/nonexistent/paddock-watch', logger: silentLogger() })).rejects.toMatchObject({ code: 'USAGE' });
  });
});
