/** The dead-letter record published on `horses.dlq.<stream_id>` (see README.md). */
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
  /** The original payload: parsed JSON when it was JSON, its text otherwise. */
  payload: unknown;
  failed_at: string;
}

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
