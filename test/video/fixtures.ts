import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolveFfmpegPath } from '../../src/video/index.ts';

const run = promisify(execFile);

/** Test videos are generated here at test time (never committed). */
export async function makeTempDir(prefix = 'paddock-video-'): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), prefix));
}

/** Runs ffmpeg with a lavfi source and the given output arguments; returns the output path. */
export async function makeVideo(dir: string, name: string, args: string[]): Promise<string> {
  const output = path.join(dir, name);
  const ffmpeg = resolveFfmpegPath({});
  await run(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-nostdin', '-y', ...args, output], { maxBuffer: 1 << 20 });
  return output;
}

/** A testsrc clip of `seconds` at `fps`, H.264. */
export function makeTestsrc(dir: string, name: string, o: { width: number; height: number; fps: number; seconds: number; extra?: string[] }) {
  return makeVideo(dir, name, [
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${o.width}x${o.height}:rate=${o.fps}:duration=${o.seconds}`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    '-pix_fmt',
    'yuv420p',
    ...(o.extra ?? []),
  ]);
}

/** Removes every MPEG-TS packet of one PID (e.g. the video PID, leaving a declared but empty video stream). */
export async function dropTsPid(source: string, target: string, pid: number): Promise<void> {
  const data = await fs.readFile(source);
  const kept: Buffer[] = [];
  for (let offset = 0; offset + 188 <= data.length; offset += 188) {
    const packet = data.subarray(offset, offset + 188);
    const packetPid = ((packet[1] ?? 0) & 0x1f) * 256 + (packet[2] ?? 0);
    if (packetPid !== pid) kept.push(packet);
  }
  await fs.writeFile(target, Buffer.concat(kept));
}

/** Pids of this process's direct children whose command name starts with `name`. */
export async function childProcesses(name: string): Promise<number[]> {
  try {
    const { stdout } = await run('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)]);
    return stdout
      .split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter((parts) => parts[1]?.startsWith(name) === true)
      .map((parts) => Number(parts[0]));
  } catch {
    return []; // ps exits 1 when there is no child at all
  }
}
