import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { videoError } from './errors.ts';

/** What ffmpeg is given for one chunk, and the only protocols it may use to read it. */
export interface VideoInput {
  /** The argument for `-i`: `file:<real path>` or the normalised http(s) URL. */
  ffmpegInput: string;
  /** Value for `-protocol_whitelist`. */
  protocols: readonly string[];
}

export interface InputPolicy {
  allowedPaths?: readonly string[] | undefined;
  allowedHosts?: readonly string[] | undefined;
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
// http redirects stay on the same scheme: an http input cannot be redirected to https and vice versa.
const HTTP_PROTOCOLS: Record<string, readonly string[]> = {
  'http:': ['http', 'tcp'],
  'https:': ['https', 'tls', 'tcp'],
};

type Chunk = { chunkId: string; uri: string };

/**
 * Checks a chunk URI against the allowed forms (a path, `file://`, `http(s)://`) and the optional
 * allow-lists before ffmpeg ever sees it. Throws VIDEO_FORBIDDEN, VIDEO_MISSING or VIDEO_INVALID.
 */
export async function resolveVideoInput(chunk: Chunk, policy: InputPolicy = {}): Promise<VideoInput> {
  const { uri } = chunk;
  // eslint-disable-next-line no-control-regex
  if (uri.trim() === '' || /[\u0000-\u001f]/.test(uri)) {
    throw videoError('VIDEO_FORBIDDEN', chunk, 'the URI is empty or contains control characters');
  }
  const scheme = SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return resolveLocalFile(chunk, path.resolve(uri), policy);
  if (scheme === 'file') {
    let filePath: string;
    try {
      filePath = fileURLToPath(new URL(uri));
    } catch (error) {
      throw videoError('VIDEO_FORBIDDEN', chunk, 'only local file:// URLs are accepted', {}, error);
    }
    return resolveLocalFile(chunk, filePath, policy);
  }
  if (scheme === 'http' || scheme === 'https') return resolveHttp(chunk, policy);
  throw videoError('VIDEO_FORBIDDEN', chunk, `the ${scheme}: scheme is not allowed (only a path, file:// or http(s)://)`, { scheme });
}

function resolveHttp(chunk: Chunk, policy: InputPolicy): VideoInput {
  let url: URL;
  try {
    url = new URL(chunk.uri);
  } catch (error) {
    throw videoError('VIDEO_FORBIDDEN', chunk, 'the URL cannot be parsed', {}, error);
  }
  const protocols = HTTP_PROTOCOLS[url.protocol];
  if (protocols === undefined || url.hostname === '') {
    throw videoError('VIDEO_FORBIDDEN', chunk, 'only http(s) URLs with a host are accepted');
  }
  if (policy.allowedHosts !== undefined && !hostAllowed(url, policy.allowedHosts)) {
    throw videoError('VIDEO_FORBIDDEN', chunk, `host ${url.host} is not in the allowed hosts`, {
      host: url.host,
      allowedHosts: policy.allowedHosts,
    });
  }
  return { ffmpegInput: url.href, protocols };
}

/** `host`, `host:port` or `*.domain` (any subdomain of domain), case-insensitive. */
export function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  const host = url.host.toLowerCase();
  return allowedHosts.some((entry) => {
    const allowed = entry.trim().toLowerCase();
    if (allowed.startsWith('*.')) return hostname.endsWith(allowed.slice(1));
    return allowed === hostname || allowed === host;
  });
}

/** Whether `candidate` is `directory` itself or lies below it (no `/data/videos-evil` for `/data/videos`). */
export function isInside(candidate: string, directory: string): boolean {
  const relative = path.relative(directory, candidate);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

async function realPathOr(candidate: string): Promise<string> {
  try {
    return await fs.realpath(candidate);
  } catch {
    return candidate;
  }
}

async function resolveLocalFile(chunk: Chunk, filePath: string, policy: InputPolicy): Promise<VideoInput> {
  const lexical = path.resolve(filePath);
  const allowed = policy.allowedPaths;
  let allowedReal: string[] | undefined;
  if (allowed !== undefined) {
    allowedReal = await Promise.all(allowed.map((prefix) => realPathOr(path.resolve(prefix))));
    const allowedForms = [...allowed.map((prefix) => path.resolve(prefix)), ...allowedReal];
    if (!allowedForms.some((prefix) => isInside(lexical, prefix))) {
      throw videoError('VIDEO_FORBIDDEN', chunk, `${lexical} is outside the allowed paths`, { path: lexical, allowedPaths: allowed });
    }
  }
  let real: string;
  try {
    real = await fs.realpath(lexical);
  } catch (error) {
    throw videoError('VIDEO_MISSING', chunk, `no such file ${lexical}`, { path: lexical }, error);
  }
  // A symlink inside an allowed directory must not lead outside of it.
  if (allowedReal !== undefined && !allowedReal.some((prefix) => isInside(real, prefix))) {
    throw videoError('VIDEO_FORBIDDEN', chunk, `${lexical} resolves to ${real}, outside the allowed paths`, {
      path: real,
      allowedPaths: allowed,
    });
  }
  const stats = await fs.stat(real);
  if (!stats.isFile()) {
    throw videoError('VIDEO_INVALID', chunk, `${real} is not a regular file`, { path: real });
  }
  return { ffmpegInput: `file:${real}`, protocols: ['file'] };
}
