import type { ErrorCode } from '../errors/index.ts';
import type { FfmpegLogSummary } from './ffmpeg-log.ts';

export interface RunOutcome {
  framesDecoded: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** stdout ended in the middle of a frame, or a showinfo line had no frame data. */
  partialFrame: boolean;
  log: FfmpegLogSummary;
}

export interface DecodeFailure {
  code: ErrorCode;
  problem: string;
}

const UNREACHABLE = /No such file or directory|404 Not Found|Server returned 4\d\d|Server returned 5\d\d|Connection refused|Failed to resolve hostname|Network is unreachable/i;

/** Names what went wrong with a finished ffmpeg run, or undefined when it was clean. */
export function classifyOutcome(outcome: RunOutcome): DecodeFailure | undefined {
  const { log, framesDecoded } = outcome;
  const firstError = log.errors[0] ?? `ffmpeg exited with ${outcome.signal ?? `code ${String(outcome.exitCode)}`}`;
  if (log.has(/not on whitelist/i)) {
    return { code: 'VIDEO_FORBIDDEN', problem: `ffmpeg refused a format or protocol that is not allowed (${firstError})` };
  }
  const failed = outcome.exitCode !== 0 || log.errors.length > 0 || outcome.partialFrame;
  if (framesDecoded > 0) {
    return failed ? { code: 'VIDEO_CORRUPT', problem: `corrupt or truncated after ${framesDecoded} frames: ${firstError}` } : undefined;
  }
  if (log.has(UNREACHABLE)) return { code: 'VIDEO_MISSING', problem: `could not be read: ${firstError}` };
  if (log.sawVideoStream || !failed) return { code: 'VIDEO_EMPTY', problem: 'the video stream has no decodable frames' };
  if (log.has(/matches no streams/)) return { code: 'VIDEO_INVALID', problem: 'not a video: it has no video stream' };
  return { code: 'VIDEO_INVALID', problem: `not a video: ${firstError}` };
}
