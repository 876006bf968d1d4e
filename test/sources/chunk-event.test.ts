import { describe, expect, it } from 'vitest';
import { chunkEventToPayload, parseChunkEvent, parseChunkEventJson } from '../../src/sources/index.ts';

const valid = {
  stream_id: 'paddock_north-1',
  chunk_id: 'paddock_north-1-000042',
  sequence: 42,
  uri: '/srv/chunks/north/000042.mp4',
  start_time: '2026-05-01T06:00:10.000Z',
  duration_s: 10,
};

function problem(overrides: Record<string, unknown>): string {
  try {
    parseChunkEvent({ ...valid, ...overrides });
  } catch (error) {
    expect(error).toMatchObject({ code: 'EVENT_INVALID' });
    return (error as Error).message;
  }
  throw new Error('expected EVENT_INVALID');
}

describe('chunk event payload', () => {
  it('parses the contract payload into a ChunkEvent and back', () => {
    const event = parseChunkEvent(valid);
    expect(event).toEqual({
      streamId: 'paddock_north-1',
      chunkId: 'paddock_north-1-000042',
      sequence: 42,
      uri: '/srv/chunks/north/000042.mp4',
      startTime: new Date('2026-05-01T06:00:10.000Z'),
      durationS: 10,
    });
    expect(chunkEventToPayload(event)).toEqual(valid);
  });

  it('accepts paths, file:// and http(s):// URIs and ISO times with offsets', () => {
    for (const uri of ['relative/chunk.mp4', 'file:///srv/a.mp4', 'http://cam.local/a.mp4', 'https://cdn.example/a.mp4?sig=1']) {
      expect(parseChunkEvent({ ...valid, uri }).uri).toBe(uri);
    }
    expect(parseChunkEvent({ ...valid, start_time: '2026-05-01T08:00:10+02:00' }).startTime.toISOString()).toBe('2026-05-01T06:00:10.000Z');
  });

  it('names the bad field', () => {
    expect(problem({ stream_id: 'a.b' })).toMatch(/stream_id/);
    expect(problem({ stream_id: '../etc' })).toMatch(/stream_id/);
    expect(problem({ stream_id: 'x'.repeat(129) })).toMatch(/stream_id/);
    expect(problem({ chunk_id: '' })).toMatch(/chunk_id/);
    expect(problem({ sequence: -1 })).toMatch(/sequence/);
    expect(problem({ sequence: 1.5 })).toMatch(/sequence/);
    expect(problem({ sequence: '3' })).toMatch(/sequence/);
    expect(problem({ uri: 'ftp://host/a.mp4' })).toMatch(/uri .*ftp/);
    expect(problem({ uri: 'rtsp://cam/live' })).toMatch(/uri/);
    expect(problem({ uri: 'http://' })).toMatch(/uri/);
    expect(problem({ start_time: 'yesterday' })).toMatch(/start_time/);
    expect(problem({ start_time: '2026-05-01T06:00:10' })).toMatch(/start_time/);
    expect(problem({ duration_s: 0 })).toMatch(/duration_s/);
    expect(problem({ duration_s: 3601 })).toMatch(/duration_s/);
    expect(problem({ duration_s: undefined })).toMatch(/duration_s/);
  });

  it('refuses text that is not JSON, and JSON that is not an object', () => {
    expect(() => parseChunkEventJson('{oops')).toThrow(/not JSON/);
    expect(() => parseChunkEventJson('[1,2]')).toThrow(/invalid chunk event/);
    expect(parseChunkEventJson(JSON.stringify(valid)).sequence).toBe(42);
  });
});
