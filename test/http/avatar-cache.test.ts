import { describe, expect, it } from 'vitest';
import { AvatarCache } from '../../src/http/api/avatar-cache.ts';

const jpeg = (bytes: number, fill = 1) => Buffer.alloc(bytes, fill);

describe('AvatarCache', () => {
  it('keeps an avatar under its stream, horse and version only', () => {
    const cache = new AvatarCache(1000);
    cache.set('s', 'horse_001', 3, jpeg(100));
    expect(cache.get('s', 'horse_001', 3)?.byteLength).toBe(100);
    expect(cache.get('s', 'horse_001', 4)).toBeUndefined();
    expect(cache.get('s', 'horse_002', 3)).toBeUndefined();
    expect(cache.get('t', 'horse_001', 3)).toBeUndefined();
  });

  it('stays within its byte bound, dropping the least recently used avatars first', () => {
    const cache = new AvatarCache(300);
    cache.set('s', 'a', 1, jpeg(100));
    cache.set('s', 'b', 1, jpeg(100));
    cache.set('s', 'c', 1, jpeg(100));
    cache.get('s', 'a', 1); // a is now the most recently used
    cache.set('s', 'd', 1, jpeg(100));
    expect(cache.get('s', 'b', 1)).toBeUndefined();
    expect(['a', 'c', 'd'].every((id) => cache.get('s', id, 1) !== undefined)).toBe(true);
    expect(cache.size).toEqual({ entries: 3, bytes: 300 });
    cache.set('s', 'd', 1, jpeg(50, 2)); // replacing an entry counts its new size once
    expect(cache.size).toEqual({ entries: 3, bytes: 250 });
    cache.set('s', 'huge', 1, jpeg(301)); // larger than the whole bound: not kept, nothing evicted
    expect(cache.get('s', 'huge', 1)).toBeUndefined();
    expect(cache.size.entries).toBe(3);
  });
});
