import { execFile } from 'node:child_process';
import { VIDEO_DEMUXERS } from './ffmpeg-args.ts';
import { FfmpegLogSummary } from './ffmpeg-log.ts';
import { resolveFfmpegPath } from './ffmpeg-path.ts';
import { resolveVideoInput, type VideoInput } from './input-policy.ts';
import { videoError } from './errors.ts';
import type { DecodeOptions } from './types.ts';

export interface VideoProbe {
  width: number;
  height: number;
  /** The stream's nominal frame rate, when the container states one. */
  fps: number | undefined;
  /** Container duration in seconds, when known (not for live-cut MPEG-TS without an index). */
  durationS: number | undefined;
  codec: string;
}

const VIDEO_STREAM = /Stream #\d+:\d+.*?: Video: (\w+).*?, (\d{1,5})x(\d{1,5})[\s,[]/;
const FPS = /, ([\d.]+) fps\b/;
const TBR = /, ([\d.]+)(k?) tbr\b/;
const DURATION = /Duration: (\d+):(\d{2}):(\d{2}(?:\.\d+)?)/;

/** Reads the first video stream's facts from the stderr of `ffmpeg -i INPUT` (no output). */
export function parseProbeOutput(stderr: string): VideoProbe | undefined {
  const lines = stderr.split(/\r?\n/);
  const streamLine = lines.find((line) => VIDEO_STREAM.test(line));
  if (streamLine === undefined) return undefined;
  const [, codec = '', width = '0', height = '0'] = VIDEO_STREAM.exec(streamLine) ?? [];
  const fpsMatch = FPS.exec(streamLine);
  const tbrMatch = TBR.exec(streamLine);
  let fps: number | undefined;
  if (fpsMatch !== null) fps = Number(fpsMatch[1]);
  else if (tbrMatch !== null) fps = Number(tbrMatch[1]) * (tbrMatch[2] === 'k' ? 1000 : 1);
  const duration = DURATION.exec(stderr);
  const durationS = duration === null ? undefined : Number(duration[1]) * 3600 + Number(duration[2]) * 60 + Number(duration[3]);
  return { width: Number(width), height: Number(height), fps: fps !== undefined && fps > 0 ? fps : undefined, durationS, codec };
}

/**
 * The chunk's video size, frame rate and duration, read with ffmpeg itself (the bundled fallback
 * ffmpeg has no ffprobe), under the same input policy and whitelists as decodeChunk.
 */
export async function probeVideo(uri: string, chunkId: string, options: Omit<DecodeOptions, 'sampleFps' | 'maxWidth' | 'maxHeight'>): Promise<VideoProbe> {
  const chunk = { chunkId, uri };
  let ffmpegPath: string;
  try {
    ffmpegPath = resolveFfmpegPath({ ffmpegPath: options.ffmpegPath });
  } catch (error) {
    throw videoError('FFMPEG_MISSING', chunk, (error as Error).message, {}, error);
  }
  const input = await resolveVideoInput(chunk, { allowedPaths: options.allowedPaths, allowedHosts: options.allowedHosts, fetchTimeoutMs: options.timeoutMs });
  try {
    return await probeInput(chunk, input, ffmpegPath, options.timeoutMs);
  } finally {
    await input.release();
  }
}

async function probeInput(chunk: { chunkId: string; uri: string }, input: VideoInput, ffmpegPath: string, timeoutMs: number): Promise<VideoProbe> {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'level+info', '-protocol_whitelist', input.protocols.join(','), '-format_whitelist', VIDEO_DEMUXERS.join(','), '-i', input.ffmpegInput];
  const { stderr, timedOut, spawnError } = await new Promise<{ stderr: string; timedOut: boolean; spawnError: Error | undefined }>((resolve) => {
    execFile(ffmpegPath, args, { timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 4 << 20, encoding: 'utf8' }, (error, _stdout, stderrText) => {
      const failure = error as (NodeJS.ErrnoException & { killed?: boolean }) | null;
      const notStarted = failure !== null && typeof failure.code === 'string' && failure.code !== 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER';
      resolve({ stderr: stderrText, timedOut: failure?.killed === true, spawnError: notStarted ? failure : undefined });
    });
  });
  if (spawnError !== undefined) throw videoError('FFMPEG_MISSING', chunk, `ffmpeg ${ffmpegPath} could not be started: ${spawnError.message}`, { ffmpegPath }, spawnError);
  if (timedOut) throw videoError('VIDEO_TIMEOUT', chunk, `probing took longer than ${timeoutMs} ms; ffmpeg was killed`, { timeoutMs });
  const probe = parseProbeOutput(stderr);
  if (probe !== undefined) return probe;
  const log = new FfmpegLogSummary();
  for (const line of stderr.split(/\r?\n/)) log.add(line);
  const detail = log.errors.find((line) => !line.includes('output file must be specified')) ?? 'no video stream';
  if (log.has(/not on whitelist/i)) throw videoError('VIDEO_FORBIDDEN', chunk, `ffmpeg refused a format or protocol that is not allowed (${detail})`);
  if (log.has(/No such file or directory|404 Not Found|Server returned 4\d\d/)) throw videoError('VIDEO_MISSING', chunk, `could not be read: ${detail}`);
  throw videoError('VIDEO_INVALID', chunk, `not a video: ${detail}`, { stderrTail: log.stderrTail() });
}
