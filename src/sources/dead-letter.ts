/** The dead-letter record published on `horses.dlq.<stream_id>` (see README.md). */
import { createHash } from 'node:crypto';
import { isValidStreamId } from './chunk-event.ts';

/** Where dead letters of messages without a usable stream id go. */
export const INVALID_STREAM_TOKEN = '_invalid';

export interface DeadLetterRecord {
  reason: string;
  /** The stream id, or the subject's last token when the payload named none. */
  stream_id: string;
  /** The subject the message arrived on (or the chunk file's path for a watched folder). */
  subject: string;
  delivery_count: number;
  /** The original payload: parsed JSON when it was JSON, its text otherwise (cut short when too large). */
  payload: unknown;
  failed_at: string;
  /** Set when the payload text was cut to fit the message size limit. */
  payload_truncated?: true;
  /** The original payload's size in bytes and SHA-256 (hex), when it was cut. */
  payload_bytes?: number;
  payload_sha256?: string;
}

/** Reasons are cut to this many characters (an error message can embed a whole payload). */
const MAX_REASON_CHARS = 2000;

export function deadLetterSubject(prefix: string, streamId: string): string {
  return `${prefix}.${isValidStreamId(streamId) ? streamId : INVALID_STREAM_TOKEN}`;
}

export function deadLetterRecord(input: { reason: string; streamId: string; subject: string; deliveryCount: number; payloadText: string; failedAt: Date }): DeadLetterRecord {
  let payload: unknown = input.payloadText;
  try {
    payload = JSON.parse(input.payloadText);
  } catch {
    // not JSON: keep the text as it came
  }
  return {
    reason: input.reason,
    stream_id: input.streamId,
    subject: input.subject,
    delivery_count: input.deliveryCount,
    payload,
    failed_at: input.failedAt.toISOString(),
  };
}

/**
 * The record as JSON text of at most maxBytes bytes; never throws. A payload that cannot be
 * serialised as parsed JSON (nested too deeply for the stack) is kept as text, and a text too
 * large for the limit (escaping can double it) is cut, with its size and hash kept: the record
 * itself must always be publishable, or the message could only be redelivered for ever.
 */
export function encodeDeadLetter(record: DeadLetterRecord, payloadText: string, maxBytes: number): string {
  const base = { ...record, reason: record.reason.length > MAX_REASON_CHARS ? `${record.reason.slice(0, MAX_REASON_CHARS)}…` : record.reason };
  const fits = (text: string | undefined): text is string => text !== undefined && Buffer.byteLength(text) <= maxBytes;
  const asParsed = trySerialise(base);
  if (fits(asParsed)) return asParsed;
  const asText = trySerialise({ ...base, payload: payloadText });
  if (fits(asText)) return asText;
  const cut = (chars: number) =>
    JSON.stringify({
      ...base,
      payload: payloadText.slice(0, chars),
      payload_truncated: true,
      payload_bytes: Buffer.byteLength(payloadText),
      payload_sha256: createHash('sha256').update(payloadText).digest('hex'),
    });
  let low = 0;
  let high = payloadText.length;
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (Buffer.byteLength(cut(middle)) <= maxBytes) low = middle;
    else high = middle - 1;
  }
  return cut(low);
}

function trySerialise(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined; // e.g. RangeError: a payload nested deeper than the stack allows
  }
}
