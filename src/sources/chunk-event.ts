/**
 * The contract's chunk event payload (`horses.chunks.<stream_id>`), validated into a ChunkEvent.
 *
 *   {"stream_id","chunk_id","sequence","uri","start_time","duration_s"}
 */
import { z } from 'zod';
import { PaddockError } from '../errors/index.ts';
import type { ChunkEvent } from '../../machines/types.ts';

/** One NATS subject token that is also safe as a folder name. */
export const STREAM_ID_PATTERN = /^[A-Za-z0-9_-]{1,128}$/;
export const MAX_CHUNK_DURATION_S = 3600;

const URL_SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

export function isValidStreamId(value: string): boolean {
  return STREAM_ID_PATTERN.test(value);
}

/** A filesystem path, or a `file://` / `http(s)://` URL; anything with another scheme is refused. */
export function uriProblem(uri: string): string | undefined {
  if (uri.includes('\0')) return 'must not contain NUL characters';
  const scheme = URL_SCHEME.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) return undefined;
  if (scheme !== 'file' && scheme !== 'http' && scheme !== 'https') return `scheme ${scheme}: is not allowed (a path, file:// or http(s):// URL)`;
  try {
    const url = new URL(uri);
    if (scheme === 'file' && url.pathname.length <= 1) return 'file:// URL names no file';
    if (scheme !== 'file' && url.hostname === '') return `${scheme}:// URL names no host`;
  } catch {
    return 'is not a valid URL';
  }
  return undefined;
}

const payloadSchema = z.object({
  stream_id: z.string().regex(STREAM_ID_PATTERN, 'must be 1-128 characters of A-Z a-z 0-9 _ -'),
  chunk_id: z
    .string()
    .min(1)
    .max(256)
    .refine((value) => ![...value].some((char) => char.charCodeAt(0) < 0x20), 'must not contain control characters'),
  sequence: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  uri: z
    .string()
    .min(1)
    .max(4096)
    .superRefine((value, ctx) => {
      const problem = uriProblem(value);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  start_time: z.iso.datetime({ offset: true }),
  duration_s: z.number().gt(0).max(MAX_CHUNK_DURATION_S),
});

export type ChunkEventPayload = z.infer<typeof payloadSchema>;

export class ChunkEventError extends PaddockError {
  override readonly name = 'ChunkEventError';
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('EVENT_INVALID', message, { details });
  }
}

/** Validates a decoded payload; throws ChunkEventError (EVENT_INVALID) naming the first bad field. */
export function parseChunkEvent(payload: unknown): ChunkEvent {
  const parsed = payloadSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue === undefined || issue.path.length === 0 ? 'payload' : issue.path.join('.');
    throw new ChunkEventError(`invalid chunk event: ${field} ${issue?.message ?? 'is invalid'}`, { field });
  }
  const p = parsed.data;
  return {
    streamId: p.stream_id,
    chunkId: p.chunk_id,
    sequence: p.sequence,
    uri: p.uri,
    startTime: new Date(p.start_time),
    durationS: p.duration_s,
  };
}

/** Parses JSON text and validates it; bad JSON is an EVENT_INVALID error too. */
export function parseChunkEventJson(text: string): ChunkEvent {
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (error) {
    throw new ChunkEventError(`invalid chunk event: not JSON (${(error as Error).message})`, { field: 'payload' });
  }
  return parseChunkEvent(payload);
}

export function chunkEventToPayload(event: ChunkEvent): ChunkEventPayload {
  return {
    stream_id: event.streamId,
    chunk_id: event.chunkId,
    sequence: event.sequence,
    uri: event.uri,
    start_time: event.startTime.toISOString(),
    duration_s: event.durationS,
  };
}
