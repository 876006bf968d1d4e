import { describe, expect, it } from 'vitest';
import { deadLetterRecord, encodeDeadLetter, type DeadLetterRecord } from '../../src/sources/dead-letter.ts';

const LIMIT = 1024 * 1024 - 4096;

function record(payloadText: string, reason = 'invalid message (schema): bad'): DeadLetterRecord {
  return deadLetterRecord({ reason, streamId: 'cam1', subject: 'horses.chunks.cam1', deliveryCount: 1, payloadText, failedAt: new Date('2026-12-01T00:00:00Z') });
}

describe('dead-letter records always fit a NATS message', () => {
  it('keeps a small payload whole, parsed when it is JSON', () => {
    const text = JSON.stringify({ stream_id: 'cam1', sequence: 'x' });
    const parsed = JSON.parse(encodeDeadLetter(record(text), text, LIMIT)) as DeadLetterRecord;
    expect(parsed.payload).toEqual({ stream_id: 'cam1', sequence: 'x' });
    expect(parsed.payload_truncated).toBeUndefined();
  });

  it('cuts a 600 KB payload of quote characters (escaping doubles it past 1 MB), keeping its size and hash', () => {
    const text = '"'.repeat(600 * 1024);
    const encoded = encodeDeadLetter(record(text), text, LIMIT);
    expect(Buffer.byteLength(encoded)).toBeLessThanOrEqual(LIMIT);
    const parsed = JSON.parse(encoded) as DeadLetterRecord;
    expect(parsed.payload_truncated).toBe(true);
    expect(parsed.payload_bytes).toBe(600 * 1024);
    expect(parsed.payload_sha256).toMatch(/^[0-9a-f]{64}$/);
    expect((parsed.payload as string).length).toBeGreaterThan(400 * 1024);
  });

  it('keeps deeply nested JSON as text instead of overflowing the stack', () => {
    const text = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
    const encoded = encodeDeadLetter(record(text), text, LIMIT);
    const parsed = JSON.parse(encoded) as DeadLetterRecord;
    expect(typeof parsed.payload).toBe('string');
    expect((parsed.payload as string).startsWith('[[[')).toBe(true);
  });

  it('cuts an enormous reason', () => {
    const encoded = encodeDeadLetter(record('{}', 'x'.repeat(100_000)), '{}', LIMIT);
    expect((JSON.parse(encoded) as DeadLetterRecord).reason.length).toBeLessThanOrEqual(2001);
  });
});
