import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { FfmpegLogSummary, parseShowinfoFrame, parseTimeBase, type FrameInfo } from './ffmpeg-log.ts';

export interface RawFrame {
  info: FrameInfo;
  data: Buffer;
  /** The frame's small grey copy from fd 3, when the process was asked for one. */
  thumbnail?: Buffer;
}

/** Thrown by `next` when ffmpeg delivers no frame within the deadline. */
export class FrameTimeout extends Error {
  override readonly name = 'FrameTimeout';
}

/** Thrown by `next` when the binary could not be started at all. */
export class SpawnFailure extends Error {
  override readonly name = 'SpawnFailure';
}

/** Frames held ready for the consumer before ffmpeg's stdout is paused (backpressure). */
const MAX_READY_FRAMES = 2;
/** RGB frames read ahead of their grey copies at most (see updateFlow). */
const THUMBNAIL_LAG_FRAMES = 8;
/** Bytes held while the showinfo line that sizes them has not arrived yet. */
const MIN_UNSIZED_BYTES = 1 << 20;

/**
 * One running ffmpeg that writes RGB24 frames to stdout and a showinfo line per frame to stderr.
 * Pairs the n-th stdout frame with the n-th showinfo line (the line carries the frame's size and
 * pts), and reads stdout only as fast as the consumer takes frames, so at most a few frames are
 * ever in memory. With `thumbnailBytes`, the n-th frame also gets the n-th fixed-size record of
 * fd 3 (tiny, so fd 3 is always read).
 */
export class RawFrameProcess {
  readonly log = new FfmpegLogSummary();
  private readonly child: ChildProcess;
  private readonly stdout: Readable;
  private readonly closedPromise: Promise<void>;
  private readonly pending = new ByteQueue();
  private readonly thumbnails: ByteQueue | null;
  private readonly infos: FrameInfo[] = [];
  private readonly ready: RawFrame[] = [];
  private timeBase: number | undefined;
  private stderrRest = '';
  private lastFrameBytes = 0;
  private exited = false;
  private closed = false;
  private exitCode: number | null = null;
  private exitSignal: NodeJS.Signals | null = null;
  private spawnError: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(
    ffmpegPath: string,
    args: readonly string[],
    private readonly thumbnailBytes = 0,
  ) {
    this.child = spawn(ffmpegPath, args, { stdio: ['ignore', 'pipe', 'pipe', ...(thumbnailBytes > 0 ? (['pipe'] as const) : [])], windowsHide: true });
    this.stdout = this.child.stdout!;
    this.thumbnails = null;
    if (thumbnailBytes > 0) {
      const thumbnails = new ByteQueue();
      this.thumbnails = thumbnails;
      (this.child.stdio[3] as Readable).on('data', (chunk: Buffer) => {
        thumbnails.push(chunk);
        this.assembleFrames();
        this.notify();
      });
    }
    this.closedPromise = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        this.flushStderr();
        this.exitCode = code;
        this.exitSignal = signal;
        this.closed = true;
        this.notify();
        resolve();
      });
      this.child.once('error', (error) => {
        // Only a failed spawn ends here without 'close'; kill errors on a live process do not matter.
        if (this.child.pid === undefined) {
          this.spawnError = error;
          this.closed = true;
          this.notify();
          resolve();
        }
      });
    });
    this.child.once('exit', () => {
      // The process is gone: drain whatever is left in the pipe so 'close' can follow.
      this.exited = true;
      this.stdout.resume();
    });
    this.stdout.on('data', (chunk: Buffer) => {
      this.pending.push(chunk);
      this.assembleFrames();
      this.notify();
    });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (text: string) => this.onStderr(text));
  }

  /** The next frame, or undefined once ffmpeg has finished. */
  async next(timeoutMs: number): Promise<RawFrame | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const frame = this.ready.shift();
      if (frame !== undefined) {
        this.updateFlow();
        return frame;
      }
      if (this.spawnError !== undefined) throw new SpawnFailure(this.spawnError.message, { cause: this.spawnError });
      if (this.closed) return undefined;
      this.updateFlow();
      const remaining = deadline - Date.now();
      if (remaining <= 0 || !(await this.waitForChange(remaining))) {
        throw new FrameTimeout(`no frame from ffmpeg within ${timeoutMs} ms`);
      }
    }
  }

  /** How the finished process ended; meaningful once `next` returned undefined. */
  result(): { exitCode: number | null; signal: NodeJS.Signals | null; partialFrame: boolean } {
    return { exitCode: this.exitCode, signal: this.exitSignal, partialFrame: this.pending.length > 0 || this.infos.length > 0 };
  }

  /** Kills ffmpeg if it still runs and waits until it is gone. Safe to call more than once. */
  async stop(): Promise<void> {
    if (!this.closed) {
      this.child.kill('SIGKILL');
      this.stdout.resume();
    }
    await this.closedPromise;
  }

  private onStderr(text: string): void {
    const lines = (this.stderrRest + text).split(/\r?\n|\r/);
    this.stderrRest = lines.pop() ?? '';
    for (const line of lines) this.onStderrLine(line);
    this.assembleFrames();
    this.notify();
  }

  private flushStderr(): void {
    if (this.stderrRest !== '') this.onStderrLine(this.stderrRest);
    this.stderrRest = '';
    this.assembleFrames();
  }

  private onStderrLine(line: string): void {
    this.log.add(line);
    const timeBase = parseTimeBase(line);
    if (timeBase !== undefined) {
      this.timeBase = timeBase;
      return;
    }
    const info = parseShowinfoFrame(line, this.timeBase);
    if (info !== undefined) this.infos.push(info);
  }

  private assembleFrames(): void {
    let info = this.infos[0];
    while (info !== undefined && this.pending.length >= info.width * info.height * 3 && (this.thumbnails === null || this.thumbnails.length >= this.thumbnailBytes)) {
      const frameBytes = info.width * info.height * 3;
      this.infos.shift();
      const frame: RawFrame = { info, data: this.pending.take(frameBytes) };
      if (this.thumbnails !== null) frame.thumbnail = this.thumbnails.take(this.thumbnailBytes);
      this.ready.push(frame);
      this.lastFrameBytes = frameBytes;
      info = this.infos[0];
    }
    this.updateFlow();
  }

  private updateFlow(): void {
    if (this.exited) return;
    const next = this.infos[0];
    const sizedBytes = next === undefined ? Math.max(this.lastFrameBytes, MIN_UNSIZED_BYTES) : next.width * next.height * 3;
    // ffmpeg may write several RGB frames before the grey copy of the first (its outputs are not
    // written in lockstep): pausing stdout while a whole frame waits for its copy would block
    // ffmpeg on stdout before it writes that copy, a deadlock. So stdout keeps flowing up to
    // THUMBNAIL_LAG_FRAMES frames ahead of the copies.
    const limit = this.thumbnails === null ? sizedBytes : sizedBytes * (1 + THUMBNAIL_LAG_FRAMES);
    const wantsData = this.ready.length < MAX_READY_FRAMES && this.pending.length < limit;
    if (wantsData) this.stdout.resume();
    else this.stdout.pause();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  private waitForChange(timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve(false);
      }, timeoutMs);
      this.wake = () => {
        clearTimeout(timer);
        resolve(true);
      };
    });
  }
}

/** Bytes received in chunks, taken from the front in exact amounts. */
class ByteQueue {
  private readonly chunks: Buffer[] = [];
  length = 0;

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  take(count: number): Buffer {
    const out = Buffer.allocUnsafe(count);
    let offset = 0;
    while (offset < count) {
      const head = this.chunks[0];
      if (head === undefined) throw new Error('frame assembly ran out of buffered bytes');
      const wanted = count - offset;
      if (head.length <= wanted) {
        head.copy(out, offset);
        offset += head.length;
        this.chunks.shift();
      } else {
        head.copy(out, offset, 0, wanted);
        this.chunks[0] = head.subarray(wanted);
        offset += wanted;
      }
    }
    this.length -= count;
    return out;
  }
}
