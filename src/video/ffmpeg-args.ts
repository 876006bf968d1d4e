import ffmpeg from 'fluent-ffmpeg';
import type { VideoInput } from './input-policy.ts';

/**
 * Demuxers a chunk may use. Playlists (hls, dash), concat/ffconcat, image sequences and other
 * demuxers that open further files or URLs are not on it.
 */
export const VIDEO_DEMUXERS = ['mov', 'matroska', 'webm', 'avi', 'mpegts', 'flv', 'h264', 'hevc', 'mpeg', 'ivf', 'm4v'] as const;

export interface SamplingOptions {
  sampleFps: number;
  maxWidth?: number | undefined;
  maxHeight?: number | undefined;
  /** Seconds of input read at most (`-t` on the input): a file longer than its event says is cut there. */
  maxDurationS?: number | undefined;
  /** Also write a small grey copy of every frame (MOTION_THUMBNAIL) to fd 3, for motion gating. */
  motionThumbnail?: boolean | undefined;
}

/**
 * The grey copy ffmpeg writes of every frame for motion gating: small enough that comparing two
 * costs microseconds in JS, large enough that a horse of a few percent of the frame moving shows.
 */
export const MOTION_THUMBNAIL = { width: 64, height: 36 } as const;

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(9).replace(/0+$/, '');
}

/**
 * Keeps the first real frame of every 1/sampleFps interval, counted from the first frame, so
 * each kept frame keeps its own presentation timestamp (the fps filter would retime frames).
 * The epsilon absorbs float error where a frame falls exactly on an interval boundary.
 */
export function sampleFilter(sampleFps: number): string {
  const fps = formatNumber(sampleFps);
  const slot = (t: string) => `floor((${t}-start_t)*${fps}+1e-6)`;
  return `select='isnan(prev_selected_t)+gte(${slot('t')},${slot('prev_selected_t')}+1)'`;
}

/** Fits within maxWidth x maxHeight keeping the aspect ratio; the min() with the input size forbids upscaling. */
export function scaleFilter(maxWidth: number | undefined, maxHeight: number | undefined): string | undefined {
  if (maxWidth === undefined && maxHeight === undefined) return undefined;
  const width = maxWidth === undefined ? 'iw' : `'min(iw,${maxWidth})'`;
  const height = maxHeight === undefined ? 'ih' : `'min(ih,${maxHeight})'`;
  return `scale=w=${width}:h=${height}:force_original_aspect_ratio=decrease:flags=bilinear`;
}

/**
 * The ffmpeg arguments that write sampled, scaled RGB24 frames to stdout and one `showinfo` line
 * per written frame (its pts and size) to stderr; with `motionThumbnail`, also each frame's small
 * grey copy to fd 3. fluent-ffmpeg only builds the argument list:
 * we spawn the process ourselves, because fluent-ffmpeg keeps the ffmpeg path in a process-wide
 * cache and runs unbounded capability probes before each command.
 */
export function buildDecodeArgs(input: VideoInput, options: SamplingOptions): string[] {
  const sampled = [sampleFilter(options.sampleFps), scaleFilter(options.maxWidth, options.maxHeight)].filter((filter): filter is string => filter !== undefined);
  const command = ffmpeg()
    .input(input.ffmpegInput)
    .inputOptions([
      '-hide_banner',
      '-nostdin',
      '-nostats',
      '-loglevel',
      'level+info',
      '-protocol_whitelist',
      input.protocols.join(','),
      '-format_whitelist',
      VIDEO_DEMUXERS.join(','),
      ...(options.maxDurationS === undefined ? [] : ['-t', formatNumber(Math.max(0.001, options.maxDurationS))]),
    ]);
  const rawOutput = ['-an', '-sn', '-dn', '-vsync', 'passthrough'];
  if (options.motionThumbnail !== true) {
    return command
      .videoFilters([...sampled, 'format=rgb24', 'showinfo'])
      .outputOptions(['-map', '0:v:0', ...rawOutput, '-pix_fmt', 'rgb24'])
      .format('rawvideo')
      .output('pipe:1')
      ._getArguments();
  }
  // One decode, two outputs: the RGB frames on stdout and their small grey copies on fd 3.
  const { width, height } = MOTION_THUMBNAIL;
  const graph = `[0:v:0]${sampled.join(',')},split=2[rgb][motion];[rgb]format=rgb24,showinfo[frames];[motion]scale=${width}:${height}:flags=area,format=gray[thumbnails]`;
  return command
    .complexFilter(graph)
    .output('pipe:1')
    .outputOptions(['-map', '[frames]', ...rawOutput, '-pix_fmt', 'rgb24'])
    .format('rawvideo')
    .output('pipe:3')
    .outputOptions(['-map', '[thumbnails]', ...rawOutput, '-pix_fmt', 'gray', '-flush_packets', '1'])
    .format('rawvideo')
    ._getArguments();
}
