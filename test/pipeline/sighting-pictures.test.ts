import { describe, expect, it } from 'vitest';
import { SIGHTING_PICTURE_EVERY, wantsSightingPicture } from '../../src/pipeline/process-chunk.ts';

describe('sighting pictures', () => {
  it('pictures a horse when it arrives or comes back', () => {
    for (let sequence = 1; sequence <= 20; sequence += 1) {
      expect(wantsSightingPicture('new', 'horse_001', sequence)).toBe(true);
      expect(wantsSightingPicture('reactivated', 'horse_001', sequence)).toBe(true);
    }
  });

  it('pictures a horse that stays in view once every SIGHTING_PICTURE_EVERY chunks, the horses of a stream on different chunks', () => {
    const pictured = (id: string) => Array.from({ length: 60 }, (_, i) => i + 1).filter((sequence) => wantsSightingPicture('continued', id, sequence));
    for (const id of ['horse_001', 'horse_002', 'horse_017']) {
      const chunks = pictured(id);
      expect(chunks).toHaveLength(60 / SIGHTING_PICTURE_EVERY);
      expect(chunks.every((sequence, i) => i === 0 || sequence - chunks[i - 1]! === SIGHTING_PICTURE_EVERY)).toBe(true);
    }
    expect(pictured('horse_001')[0]).not.toBe(pictured('horse_002')[0]);
  });
});
