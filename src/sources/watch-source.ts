/**
 * `paddock run --watch DIR`: new chunk files `DIR/<stream_id>/*.mp4` become chunk deliveries,
 * per stream in name order, each once it is complete (its size settled, or a later file of the
 * same stream exists). fs.watch triggers scans; a periodic rescan covers filesystems where
 * fs.watch misses events. Files present at start are picked up (the chunk log skips repeats).
 *
 * Settling: ack → remembered as done (in memory); nak(delay) → offered again after the delay;
 * working → nothing to extend; deadLetter → moved to `DIR/<stream_id>/.failed/` beside
 * `<name>.reason.txt`.
 */
import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UsageError, errorMessage } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import { probeVideo } from '../video/index.ts';
import type { DecodeOptions } from '../video/index.ts';
import type { ChunkDelivery, ChunkEvent } from '../../machines/types.ts';
import { AsyncQueue } from './async-queue.ts';
import { MAX_CHUNK_DURATION_S, isValidStreamId } from './chunk-event.ts';
import { callHook } from './types.ts';
import type { ChunkSource, SourceHooks } from './types.ts';
import { chunkBaseName, isChunkFileName, isFileComplete, sequenceFromName, sortChunkNames } from './watch-plan.ts';

export const DEFAULT_SETTLE_MS = 1000;
export const DEFAULT_RESCAN_MS = 1000;
export const DEFAULT_CHUNK_DURATION_S = 10;
export const FAILED_FOLDER = '.failed';
const WATCH_DEBOUNCE_MS = 50;

export type ProbeOptions = Omit<DecodeOptions, 'sampleFps' | 'maxWidth' | 'maxHeight'>;

export interface WatchSourceOptions {
  dir: string;
  logger: Logger;
  hooks?: SourceHooks;
  /** A file's size must stay unchanged this long before it is handed over (unless a later file exists). */
  settleMs?: number;
  rescanMs?: number;
  /** Used when the duration cannot be probed (the machines then fail the chunk properly). */
  defaultDurationS?: number;
  /** ffmpeg settings for probing durations (timeout, binary, allowed paths). */
  probeOptions?: ProbeOptions;
}

type FileState = 'pending' | 'offered' | 'waiting' | 'done' | 'failed';

interface WatchedFile {
  readonly streamId: string;
  readonly name: string;
  readonly path: string;
  size: number;
  stableSinceMs: number;
  state: FileState;
  deliveries: number;
  event: ChunkEvent | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** Checks DIR, scans what is already there, then watches for new chunk files. */
export async function openWatchSource(options: WatchSourceOptions): Promise<WatchSource> {
  const dir = path.resolve(options.dir);
  const info = await stat(dir).catch(() => undefined);
  if (info === undefined || !info.isDirectory()) throw new UsageError(`--watch ${options.dir} is not a directory`);
  const source = new WatchSource(dir, options);
  await source.start();
  return source;
}

export class WatchSource implements ChunkSource {
  private readonly queue = new AsyncQueue<ChunkDelivery>();
  private readonly files = new Map<string, WatchedFile>();
  private readonly warnedFolders = new Set<string>();
  private readonly pending = new Set<Promise<void>>();
  private readonly logger: Logger;
  private readonly hooks: SourceHooks;
  private readonly settleMs: number;
  private readonly rescanMs: number;
  private readonly defaultDurationS: number;
  private readonly probeOptions: ProbeOptions;
  private watcher: FSWatcher | undefined;
  private rescanTimer: NodeJS.Timeout | undefined;
  private debounceTimer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private rescanRequested = false;
  private stopped = false;

  constructor(
    readonly dir: string,
    options: WatchSourceOptions,
  ) {
    this.logger = options.logger.child({ component: 'watch-source', dir });
    this.hooks = options.hooks ?? {};
    this.settleMs = Math.max(0, options.settleMs ?? DEFAULT_SETTLE_MS);
    this.rescanMs = Math.max(50, options.rescanMs ?? DEFAULT_RESCAN_MS);
    this.defaultDurationS = Math.min(MAX_CHUNK_DURATION_S, Math.max(0.001, options.defaultDurationS ?? DEFAULT_CHUNK_DURATION_S));
    this.probeOptions = options.probeOptions ?? { timeoutMs: 30_000 };
  }

  async start(): Promise<void> {
    try {
      this.watcher = watch(this.dir, { recursive: true }, () => this.scheduleScan());
      this.watcher.on('error', (error) => {
        this.logger.warn({ err: errorMessage(error) }, 'fs.watch failed; relying on periodic rescans');
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch (error) {
      this.logger.warn({ err: errorMessage(error) }, 'fs.watch unavailable; relying on periodic rescans');
    }
    this.rescanTimer = setInterval(() => this.scheduleScan(), this.rescanMs);
    await this.scan();
  }

  [Symbol.asyncIterator](): AsyncIterator<ChunkDelivery> {
    return this.queue[Symbol.asyncIterator]();
  }

  ack(delivery: ChunkDelivery): void {
    const file = this.fileOf(delivery);
    if (file !== undefined && file.state === 'offered') file.state = 'done';
  }

  nak(delivery: ChunkDelivery, delayMs: number): void {
    const file = this.fileOf(delivery);
    if (file === undefined || file.state !== 'offered') return;
    file.state = 'waiting';
    file.timer = setTimeout(() => {
      file.timer = undefined;
      if (this.stopped || file.state !== 'waiting') return;
      this.offer(file);
    }, Math.max(0, delayMs));
  }

  working(_delivery: ChunkDelivery): void {
    // A file has no deadline to extend.
  }

  deadLetter(delivery: ChunkDelivery, reason: string): void {
    const file = this.fileOf(delivery);
    if (file === undefined || file.state === 'failed') return;
    file.state = 'failed';
    clearTimeout(file.timer);
    this.track(this.moveToFailed(file, delivery, reason));
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.watcher?.close();
    clearInterval(this.rescanTimer);
    clearTimeout(this.debounceTimer);
    for (const file of this.files.values()) clearTimeout(file.timer);
    this.queue.end();
    await this.scanning;
  }

  async close(): Promise<void> {
    await this.stop();
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private fileOf(delivery: ChunkDelivery): WatchedFile | undefined {
    const handle = delivery.handle as WatchedFile | undefined;
    return handle !== undefined && this.files.get(handle.path) === handle ? handle : undefined;
  }

  private scheduleScan(): void {
    if (this.stopped || this.debounceTimer !== undefined) return;
    this.debounceTimer = setTimeout(() => {
      this.debounceTimer = undefined;
      void this.scan();
    }, WATCH_DEBOUNCE_MS);
  }

  /** One scan at a time; a request during a scan runs one more afterwards. */
  private scan(): Promise<void> {
    if (this.scanning !== undefined) {
      this.rescanRequested = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescanRequested = false;
        try {
          await this.scanOnce();
        } catch (error) {
          this.logger.error({ err: errorMessage(error) }, 'scan failed');
        }
      } while (this.rescanRequested && !this.stopped);
    })().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch((error: unknown) => {
      this.logger.warn({ err: errorMessage(error) }, 'cannot read the watched folder');
      return [];
    });
    const folders = entries.filter((entry) => entry.isDirectory() && !entry.name.startsWith('.')).map((entry) => entry.name);
    for (const folder of sortChunkNames(folders)) {
      if (this.stopped) return;
      if (!isValidStreamId(folder)) {
        if (!this.warnedFolders.has(folder)) {
          this.warnedFolders.add(folder);
          this.logger.warn({ folder }, 'skipping folder: not a valid stream id (1-128 of A-Z a-z 0-9 _ -)');
        }
        continue;
      }
      await this.scanStream(folder);
    }
  }

  private async scanStream(streamId: string): Promise<void> {
    const folder = path.join(this.dir, streamId);
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => []);
    const names = sortChunkNames(entries.filter((entry) => (entry.isFile() || entry.isSymbolicLink()) && isChunkFileName(entry.name)).map((entry) => entry.name));
    this.forgetVanished(folder, new Set(names));
    const now = Date.now();
    for (const [position, name] of names.entries()) {
      if (this.stopped) return;
      const filePath = path.join(folder, name);
      const file = await this.observe(streamId, name, filePath, now);
      if (file === undefined || file.state !== 'pending') continue;
      // Later files wait for this one: chunks of a stream are handed over in name order.
      if (!isFileComplete(file, now, this.settleMs, position < names.length - 1)) return;
      await this.handOver(file, position);
    }
  }

  /** Records a new file, or a size change of one still pending. */
  private async observe(streamId: string, name: string, filePath: string, now: number): Promise<WatchedFile | undefined> {
    const known = this.files.get(filePath);
    if (known !== undefined && known.state !== 'pending') return known;
    const info = await stat(filePath).catch(() => undefined);
    if (info === undefined || !info.isFile()) return undefined;
    if (known === undefined) {
      const file: WatchedFile = { streamId, name, path: filePath, size: info.size, stableSinceMs: Math.min(info.mtimeMs, now), state: 'pending', deliveries: 0, event: undefined, timer: undefined };
      this.files.set(filePath, file);
      return file;
    }
    if (info.size !== known.size) {
      known.size = info.size;
      known.stableSinceMs = now;
    }
    return known;
  }

  /** Forgets files that are gone, unless the machines still hold them. */
  private forgetVanished(folder: string, present: ReadonlySet<string>): void {
    for (const [filePath, file] of this.files) {
      if (path.dirname(filePath) !== folder || present.has(file.name)) continue;
      if (file.state === 'pending' || file.state === 'done' || file.state === 'failed') this.files.delete(filePath);
    }
  }

  private async handOver(file: WatchedFile, position: number): Promise<void> {
    const chunkId = `${file.streamId}/${chunkBaseName(file.name)}`;
    const durationS = await this.probeDuration(file.path, chunkId);
    const info = await stat(file.path).catch(() => undefined);
    if (info === undefined) return;
    file.event = {
      streamId: file.streamId,
      chunkId,
      sequence: sequenceFromName(file.name) ?? position,
      uri: file.path,
      startTime: new Date(info.mtimeMs - durationS * 1000),
      durationS,
    };
    this.offer(file);
  }

  private async probeDuration(filePath: string, chunkId: string): Promise<number> {
    try {
      const probe = await probeVideo(filePath, chunkId, this.probeOptions);
      if (probe.durationS !== undefined && probe.durationS > 0) return Math.min(MAX_CHUNK_DURATION_S, probe.durationS);
      this.logger.warn({ chunkId }, 'chunk duration unknown; using the default');
    } catch (error) {
      this.logger.warn({ chunkId, err: errorMessage(error) }, 'chunk could not be probed; using the default duration');
    }
    return this.defaultDurationS;
  }

  private offer(file: WatchedFile): void {
    if (this.stopped || file.event === undefined) return;
    file.deliveries += 1;
    file.state = 'offered';
    if (file.deliveries > 1) callHook(this.hooks.onRedelivery, (error) => this.hookFailed('onRedelivery', error), file.streamId);
    this.queue.push({ event: file.event, deliveryCount: file.deliveries, handle: file });
  }

  private async moveToFailed(file: WatchedFile, delivery: ChunkDelivery, reason: string): Promise<void> {
    const failedDir = path.join(path.dirname(file.path), FAILED_FOLDER);
    const target = path.join(failedDir, file.name);
    try {
      await mkdir(failedDir, { recursive: true });
      await rename(file.path, target);
      const note = [
        reason,
        '',
        `stream_id: ${file.streamId}`,
        `chunk_id: ${delivery.event.chunkId}`,
        `delivery_count: ${delivery.deliveryCount}`,
        `failed_at: ${new Date().toISOString()}`,
        '',
      ].join('\n');
      await writeFile(`${target}.reason.txt`, note);
    } catch (error) {
      this.logger.error({ file: file.path, err: errorMessage(error) }, 'could not move a dead-lettered chunk to .failed');
      return;
    }
    this.logger.warn({ stream_id: file.streamId, chunk_id: delivery.event.chunkId, delivery_count: delivery.deliveryCount, reason, moved_to: target }, 'chunk dead-lettered');
    callHook(this.hooks.onDeadLetter, (error) => this.hookFailed('onDeadLetter', error), file.streamId, reason);
  }

  private track(work: Promise<void>): void {
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private hookFailed(hook: string, error: unknown): void {
    this.logger.error({ hook, err: errorMessage(error) }, 'source hook threw');
  }
}
