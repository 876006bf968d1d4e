import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { videoError } from './errors.ts';
import { fetchToTempFile } from './http-fetch.ts';

/** What ffmpeg is given for one chunk, and the only protocols it may use to read it. */
export interface VideoInput {
  /** The argument for `-i`: `file:<real path>` (an http(s) chunk is fetched to a local file first). */
  ffmpegInput: string;
  /** Value for `-protocol_whitelist`. */
  protocols: readonly string[];
  /** Removes what fetching left behind (the local copy of an http(s) chunk); call when done. */
  release(): Promise<void>;
}

export interface InputPolicy {
  allowedPaths?: readonly string[] | undefined;
  allowedHosts?: readonly string[] | undefined;
  /** An http(s) fetch that receives nothing for this long is abandoned (VIDEO_TIMEOUT). */
  fetchTimeoutMs?: number | undefined;
}

const nothingToRelease = (): Promise<void> => Promise.resolve();

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
/** Default of fetchTimeoutMs. */
const DEFAULT_FETCH_TIMEOUT_MS = 30_000;

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
  if (scheme === 'http' || scheme === 'https') return fetchHttp(chunk, policy);
  throw videoError('VIDEO_FORBIDDEN', chunk, `the ${scheme}: scheme is not allowed (only a path, file:// or http(s)://)`, { scheme });
}

/** Checks the URL, then fetches it (every redirect hop checked too) to a local file for ffmpeg. */
async function fetchHttp(chunk: Chunk, policy: InputPolicy): Promise<VideoInput> {
  const url = checkedHttpUrl(chunk, policy);
  const fetched = await fetchToTempFile(chunk, url, {
    allowedHosts: policy.allowedHosts,
    idleTimeoutMs: policy.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
    hostAllowed,
  });
  return { ffmpegInput: `file:${fetched.path}`, protocols: ['file'], release: fetched.remove };
}

/** The URL of an http(s) chunk when its form and host are allowed (the policy's first check, no network). */
export function checkedHttpUrl(chunk: Chunk, policy: InputPolicy): URL {
  let url: URL;
  try {
    url = new URL(chunk.uri);
  } catch (error) {
    throw videoError('VIDEO_FORBIDDEN', chunk, 'the URL cannot be parsed', {}, error);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw videoError('VIDEO_FORBIDDEN', chunk, 'only http(s) URLs with a host are accepted');
  }
  if (policy.allowedHosts !== undefined && !hostAllowed(url, policy.allowedHosts)) {
    throw videoError('VIDEO_FORBIDDEN', chunk, `host ${url.host} is not in the allowed hosts`, {
      host: url.host,
      allowedHosts: policy.allowedHosts,
    });
  }
  return url;
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
  return { ffmpegInput: `file:${real}`, protocols: ['file'], release: nothingToRelease };
}
