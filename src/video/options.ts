import type { PaddockConfig } from '../config/index.ts';
import type { DecodeOptions } from './types.ts';

/** Decode options from the validated configuration, with the frame size the caller needs. */
export function decodeOptionsFromConfig(
  config: Pick<PaddockConfig, 'sampleFps' | 'ffmpegTimeoutMs' | 'ffmpegPath' | 'allowedPaths' | 'allowedHosts'>,
  size: { maxWidth?: number; maxHeight?: number } = {},
): DecodeOptions {
  return {
    sampleFps: config.sampleFps,
    timeoutMs: config.ffmpegTimeoutMs,
    ...size,
    ...(config.ffmpegPath === undefined ? {} : { ffmpegPath: config.ffmpegPath }),
    ...(config.allowedPaths === undefined ? {} : { allowedPaths: config.allowedPaths }),
    ...(config.allowedHosts === undefined ? {} : { allowedHosts: config.allowedHosts }),
  };
}
