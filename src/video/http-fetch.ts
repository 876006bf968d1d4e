/**
 * HTTP(S) chunk inputs are fetched here, not by ffmpeg, so that every redirect hop is checked
 * against the policy (ffmpeg follows redirects on its own, past any allow-list), and the body is
 * bounded in size and time. ffmpeg then reads the local copy.
 *
 * Without PADDOCK_ALLOWED_HOSTS any public host is fetched, but a host that resolves to a
 * loopback, private, link-local or otherwise internal address is refused (a chunk event must not
 * make the daemon read its own network); naming such a host in the allow-list allows it.
 */
import { lookup } from 'node:dns/promises';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { videoError } from './errors.ts';

/** Redirects followed at most. */
export const MAX_REDIRECTS = 5;
/** A chunk fetched over HTTP may be at most this large. */
export const MAX_HTTP_CHUNK_BYTES = 1024 * 1024 * 1024;

type Chunk = { chunkId: string; uri: string };

export interface FetchPolicy {
  allowedHosts?: readonly string[] | undefined;
  /** No byte for this long (connecting, headers or body) aborts the fetch (VIDEO_TIMEOUT). */
  idleTimeoutMs: number;
  maxBytes?: number;
  /** Host matching (input-policy's hostAllowed). */
  hostAllowed(url: URL, allowedHosts: readonly string[]): boolean;
}

export interface FetchedFile {
  path: string;
  /** The URL the body finally came from, after redirects. */
  finalUrl: string;
  remove(): Promise<void>;
}

/** Downloads `url` (following checked redirects) into a private temporary file. */
export async function fetchToTempFile(chunk: Chunk, start: URL, policy: FetchPolicy): Promise<FetchedFile> {
  const dir = await mkdtemp(path.join(tmpdir(), 'paddock-http-'));
  const remove = () => rm(dir, { recursive: true, force: true });
  try {
    let url = start;
    for (let hop = 0; ; hop += 1) {
      await checkTarget(chunk, url, policy);
      const response = await fetchOnce(chunk, url, policy.idleTimeoutMs);
      if (response.status >= 300 && response.status < 400 && response.headers.has('location')) {
        await response.body?.cancel();
        if (hop >= MAX_REDIRECTS) throw videoError('VIDEO_FORBIDDEN', chunk, `more than ${MAX_REDIRECTS} redirects`);
        url = new URL(response.headers.get('location')!, url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') {
          throw videoError('VIDEO_FORBIDDEN', chunk, `redirected to a ${url.protocol} URL (only http(s) is followed)`, { location: url.href });
        }
        continue;
      }
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        throw videoError('VIDEO_MISSING', chunk, `${url.href} answered ${response.status}`, { status: response.status });
      }
      if (!response.ok || response.body === null) {
        await response.body?.cancel();
        throw videoError('VIDEO_INVALID', chunk, `${url.href} answered ${response.status}`, { status: response.status });
      }
      const file = path.join(dir, 'chunk');
      await saveBody(chunk, response, file, policy);
      return { path: file, finalUrl: url.href, remove };
    }
  } catch (error) {
    await remove();
    throw error;
  }
}

async function checkTarget(chunk: Chunk, url: URL, policy: FetchPolicy): Promise<void> {
  if (policy.allowedHosts !== undefined) {
    if (!policy.hostAllowed(url, policy.allowedHosts)) {
      throw videoError('VIDEO_FORBIDDEN', chunk, `host ${url.host} is not in the allowed hosts`, { host: url.host, allowedHosts: policy.allowedHosts });
    }
    return;
  }
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  try {
    addresses = isIP(hostname) === 0 ? (await lookup(hostname, { all: true })).map((entry) => entry.address) : [hostname];
  } catch (error) {
    throw videoError('VIDEO_MISSING', chunk, `host ${url.hostname} cannot be resolved`, { host: url.hostname }, error);
  }
  const internal = addresses.find(isInternalAddress);
  if (internal !== undefined) {
    throw videoError('VIDEO_FORBIDDEN', chunk, `host ${url.hostname} is an internal address (${internal}); name it in PADDOCK_ALLOWED_HOSTS to allow it`, {
      host: url.hostname,
      address: internal,
    });
  }
}

async function fetchOnce(chunk: Chunk, url: URL, idleTimeoutMs: number): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), idleTimeoutMs);
  try {
    return await fetch(url, { redirect: 'manual', signal: controller.signal });
  } catch (error) {
    if (controller.signal.aborted) {
      throw videoError('VIDEO_TIMEOUT', chunk, `${url.href} sent no answer for ${idleTimeoutMs} ms`, { timeoutMs: idleTimeoutMs, framesDecoded: 0 }, error);
    }
    throw videoError('VIDEO_MISSING', chunk, `${url.href} cannot be fetched: ${(error as Error).message}`, {}, error);
  } finally {
    clearTimeout(timer);
  }
}

async function saveBody(chunk: Chunk, response: Response, file: string, policy: FetchPolicy): Promise<void> {
  const maxBytes = policy.maxBytes ?? MAX_HTTP_CHUNK_BYTES;
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw videoError('VIDEO_INVALID', chunk, `the chunk is ${declared} bytes; the limit is ${maxBytes}`, { bytes: declared, maxBytes });
  }
  const out = createWriteStream(file, { mode: 0o600 });
  const reader = response.body!.getReader();
  let bytes = 0;
  try {
    while (true) {
      let timer: NodeJS.Timeout | undefined;
      const idle = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(videoError('VIDEO_TIMEOUT', chunk, `the body stalled for ${policy.idleTimeoutMs} ms`, { timeoutMs: policy.idleTimeoutMs, framesDecoded: 0 })), policy.idleTimeoutMs);
      });
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await Promise.race([reader.read(), idle]);
      } finally {
        clearTimeout(timer);
      }
      if (next.done) break;
      bytes += next.value.byteLength;
      if (bytes > maxBytes) throw videoError('VIDEO_INVALID', chunk, `the chunk is larger than ${maxBytes} bytes`, { maxBytes });
      if (!out.write(next.value)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  } catch (error) {
    await reader.cancel().catch(() => {});
    throw error;
  } finally {
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
  if (bytes === 0) throw videoError('VIDEO_EMPTY', chunk, 'the chunk is empty (0 bytes)');
}

/** Loopback, private (RFC 1918, ULA), link-local, CGNAT, unspecified, multicast and similar addresses. */
export function isInternalAddress(address: string): boolean {
  const version = isIP(address);
  if (version === 4) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 198 && (b === 18 || b === 19)) ||
      a >= 224
    );
  }
  if (version === 6) {
    const lower = address.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    if (mapped !== null) return isInternalAddress(mapped[1]!);
    return lower === '::' || lower === '::1' || /^f[cd]/.test(lower) || /^fe[89ab]/.test(lower) || lower.startsWith('ff');
  }
  return true;
}
