import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { PaddockError } from '../errors/index.ts';

const require = createRequire(import.meta.url);

function isExecutableFile(candidate: string): boolean {
  try {
    fs.accessSync(candidate, fs.constants.X_OK);
    return fs.statSync(candidate).isFile();
  } catch {
    return false;
  }
}

function findOnPath(name: string, searchPath: string): string | undefined {
  for (const directory of searchPath.split(path.delimiter)) {
    if (directory === '') continue;
    const candidate = path.join(directory, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function bundledFfmpeg(): string | undefined {
  try {
    const installer = require('@ffmpeg-installer/ffmpeg') as { path?: unknown };
    return typeof installer.path === 'string' && isExecutableFile(installer.path) ? installer.path : undefined;
  } catch {
    // The installer throws on platforms it has no binary for.
    return undefined;
  }
}

/**
 * The ffmpeg binary to run: the configured one (FFMPEG_PATH; a bare name is looked up on PATH),
 * else `ffmpeg` on PATH, else the binary shipped inside @ffmpeg-installer/ffmpeg.
 * Throws FFMPEG_MISSING when none is executable.
 */
export function resolveFfmpegPath(config: { ffmpegPath?: string | undefined }, searchPath: string = process.env.PATH ?? ''): string {
  const configured = config.ffmpegPath;
  if (configured !== undefined && configured !== '') {
    const found = configured.includes(path.sep) ? (isExecutableFile(configured) ? path.resolve(configured) : undefined) : findOnPath(configured, searchPath);
    if (found === undefined) {
      throw new PaddockError('FFMPEG_MISSING', `ffmpeg not found: FFMPEG_PATH ${configured} is not an executable file`, {
        details: { ffmpegPath: configured },
      });
    }
    return found;
  }
  const found = findOnPath('ffmpeg', searchPath) ?? bundledFfmpeg();
  if (found === undefined) {
    throw new PaddockError('FFMPEG_MISSING', 'ffmpeg not found: set FFMPEG_PATH, install ffmpeg on PATH, or install @ffmpeg-installer/ffmpeg', {
      details: { searchPath },
    });
  }
  return found;
}
