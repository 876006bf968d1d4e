import { PaddockError, isPaddockError } from '../errors/index.ts';
import { buildDecodeArgs, MOTION_THUMBNAIL } from './ffmpeg-args.ts';
import { resolveFfmpegPath } from './ffmpeg-path.ts';
import { FrameTimeout, RawFrameProcess, SpawnFailure } from './frame-process.ts';
import { resolveVideoInput } from './input-policy.ts';
import { classifyOutcome } from './outcome.ts';
import { videoError } from './errors.ts';
import type { DecodedFrame, DecodeOptions } from './types.ts';

type Chunk = { chunkId: string; uri: string };

function validateOptions(chunk: Chunk, options: DecodeOptions): void {
  const problems: string[] = [];
  if (!(Number.isFinite(options.sampleFps) && options.sampleFps > 0)) problems.push(`sampleFps must be > 0 (got ${options.sampleFps})`);
  if (!(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) problems.push(`timeoutMs must be > 0 (got ${options.timeoutMs})`);
  for (const [name, value] of [
    ['maxWidth', options.maxWidth],
    ['maxHeight', options.maxHeight],
  ] as const) {
    if (value !== undefined && !(Number.isInteger(value) && value > 0)) problems.push(`${name} must be a positive integer (got ${value})`);
  }
  if (problems.length > 0) {
    throw new PaddockError('CONFIG_INVALID', `chunk ${chunk.chunkId} (${chunk.uri}): invalid decode options: ${problems.join('; ')}`, {
      details: { ...chunk, problems },
    });
  }
}

function ffmpegFor(chunk: Chunk, options: DecodeOptions): string {
  try {
    return resolveFfmpegPath({ ffmpegPath: options.ffmpegPath });
  } catch (error) {
    if (isPaddockError(error)) throw videoError(error.code, chunk, error.message, error.details, error);
    throw error;
  }
}

/** Microsecond rounding keeps float noise like 10.2 - 10.0 = 0.1999999 out of timestamps. */
function roundSeconds(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}

async function* decodeFrames(chunk: Chunk, options: DecodeOptions): AsyncGenerator<DecodedFrame, void, undefined> {
  validateOptions(chunk, options);
  const ffmpegPath = ffmpegFor(chunk, options);
  const input = await resolveVideoInput(chunk, { allowedPaths: options.allowedPaths, allowedHosts: options.allowedHosts, fetchTimeoutMs: options.timeoutMs });
  const thumbnailBytes = options.motionThumbnail === true ? MOTION_THUMBNAIL.width * MOTION_THUMBNAIL.height : 0;
  const ffmpeg = new RawFrameProcess(ffmpegPath, buildDecodeArgs(input, options), thumbnailBytes);
  let index = 0;
  let originS: number | undefined;
  let previousS = 0;
  try {
    while (true) {
      let raw;
      try {
        raw = await ffmpeg.next(options.timeoutMs);
      } catch (error) {
        if (error instanceof FrameTimeout) {
          throw videoError('VIDEO_TIMEOUT', chunk, `ffmpeg delivered no frame for ${options.timeoutMs} ms and was killed`, {
            framesDecoded: index,
            timeoutMs: options.timeoutMs,
            stderrTail: ffmpeg.log.stderrTail(),
          });
        }
        if (error instanceof SpawnFailure) {
          throw videoError('FFMPEG_MISSING', chunk, `ffmpeg ${ffmpegPath} could not be started: ${error.message}`, { ffmpegPath }, error);
        }
        throw error;
      }
      if (raw === undefined) break;
      const { ptsSeconds, width, height } = raw.info;
      // A frame without pts (rare) is placed one sample interval after the previous one.
      const absoluteS = ptsSeconds ?? (originS === undefined ? 0 : originS + previousS + 1 / options.sampleFps);
      originS ??= absoluteS;
      const timestampS = roundSeconds(absoluteS - originS);
      previousS = timestampS;
      yield { index, timestampS, width, height, data: raw.data, ...(raw.thumbnail === undefined ? {} : { motionThumbnail: raw.thumbnail }) };
      index += 1;
    }
    const failure = classifyOutcome({ framesDecoded: index, ...ffmpeg.result(), log: ffmpeg.log });
    if (failure !== undefined) {
      throw videoError(failure.code, chunk, failure.problem, {
        framesDecoded: index,
        ffmpegErrors: ffmpeg.log.errors,
        stderrTail: ffmpeg.log.stderrTail(),
      });
    }
  } finally {
    // Runs on completion, on error and when the consumer stops early (break/return): never leak ffmpeg.
    await ffmpeg.stop();
    await input.release();
  }
}

/**
 * Streams the sampled frames of one chunk, in order, each with its exact timestamp from the
 * chunk's first frame. ffmpeg starts on the first `next()` and is killed when iteration ends for
 * any reason. On a corrupt or truncated chunk the frames decoded so far are yielded, then a
 * VIDEO_CORRUPT PaddockError (details.framesDecoded) is thrown.
 */
export function decodeChunk(uri: string, chunkId: string, options: DecodeOptions): AsyncIterable<DecodedFrame> {
  return { [Symbol.asyncIterator]: () => decodeFrames({ chunkId, uri }, options) };
}
