import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { PaddockError } from '../../src/errors/index.ts';
import {
  BestThumbnails,
  cropForThumbnail,
  encodeThumbnail,
  MAX_THUMBNAIL_BYTES,
  TARGET_THUMBNAIL_BYTES,
  thumbnailQuality,
  type ThumbnailCrop,
} from '../../src/thumbnails/index.ts';
import type { DecodedFrame } from '../../src/video/index.ts';

/** A frame whose pixel (x, y) is (x, y, index) — so every copied pixel tells where it came from. */
function coordinateFrame(width: number, height: number, index = 0): DecodedFrame {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const offset = (y * width + x) * 3;
      data[offset] = x;
      data[offset + 1] = y;
      data[offset + 2] = index;
    }
  }
  return { index, timestampS: index * 0.2, width, height, data };
}

function pixel(crop: ThumbnailCrop, x: number, y: number): number[] {
  const offset = (y * crop.width + x) * 3;
  return [crop.data[offset] ?? -1, crop.data[offset + 1] ?? -1, crop.data[offset + 2] ?? -1];
}

/** Black/white noise: the worst case for JPEG size. */
function noiseCrop(width: number, height: number, seed = 1): ThumbnailCrop {
  const data = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let i = 0; i < data.length; i += 1) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    data[i] = state & 0x10000 ? 255 : 0;
  }
  return { width, height, data, quality: 1 };
}

describe('thumbnailQuality', () => {
  it('is box area times confidence, and 0 for degenerate input', () => {
    expect(thumbnailQuality({ x: 5, y: 5, w: 20, h: 10 }, 0.5)).toBe(100);
    expect(thumbnailQuality({ x: 0, y: 0, w: -20, h: 10 }, 0.9)).toBe(0);
    expect(thumbnailQuality({ x: 0, y: 0, w: 20, h: 10 }, Number.NaN)).toBe(0);
  });
});

describe('cropForThumbnail', () => {
  const frame = coordinateFrame(100, 80, 3);

  it('copies the box plus a 10 % margin on each side', () => {
    const crop = cropForThumbnail(frame, { x: 40, y: 30, w: 20, h: 10 }, 7);
    expect([crop.width, crop.height, crop.quality]).toEqual([24, 12, 7]); // x 38..62, y 29..41
    expect(pixel(crop, 0, 0)).toEqual([38, 29, 3]);
    expect(pixel(crop, 23, 11)).toEqual([61, 40, 3]);
    expect(crop.data.length).toBe(24 * 12 * 3);
  });

  it('clips the margin at the frame edges', () => {
    const topLeft = cropForThumbnail(frame, { x: 0, y: 0, w: 30, h: 20 }, 1);
    expect([topLeft.width, topLeft.height]).toEqual([33, 22]);
    expect(pixel(topLeft, 0, 0)).toEqual([0, 0, 3]);
    const bottomRight = cropForThumbnail(frame, { x: 80, y: 70, w: 30, h: 20 }, 1); // box runs off the frame
    expect([bottomRight.width, bottomRight.height]).toEqual([23, 12]); // x 77..99, y 68..79
    expect(pixel(bottomRight, 22, 11)).toEqual([99, 79, 3]);
  });

  it('keeps a copy, not a view of the frame', () => {
    const source = coordinateFrame(10, 10);
    const crop = cropForThumbnail(source, { x: 0, y: 0, w: 10, h: 10 }, 1);
    source.data.fill(200);
    expect(pixel(crop, 1, 2)).toEqual([1, 2, 0]);
    expect(crop.data.buffer).not.toBe(source.data.buffer);
  });

  it('refuses boxes outside the frame and frames of the wrong size', () => {
    expect(() => cropForThumbnail(frame, { x: 500, y: 500, w: 10, h: 10 }, 1)).toThrow(PaddockError);
    expect(() => cropForThumbnail(frame, { x: Number.NaN, y: 0, w: 10, h: 10 }, 1)).toThrow(expect.objectContaining({ code: 'THUMBNAIL_INVALID' }));
    expect(() => cropForThumbnail({ ...frame, data: Buffer.alloc(10) }, { x: 0, y: 0, w: 10, h: 10 }, 1)).toThrow(
      expect.objectContaining({ code: 'THUMBNAIL_INVALID' }),
    );
  });
});

describe('BestThumbnails', () => {
  it('keeps only the best candidate per key, as a crop of that frame', () => {
    const best = new BestThumbnails<string>();
    expect(best.offer('horse_001', coordinateFrame(100, 80, 1), { x: 10, y: 10, w: 20, h: 20 }, 0.5)).toBe(true); // 200
    expect(best.offer('horse_001', coordinateFrame(100, 80, 2), { x: 10, y: 10, w: 20, h: 20 }, 0.4)).toBe(false); // 160
    expect(best.offer('horse_001', coordinateFrame(100, 80, 3), { x: 10, y: 10, w: 30, h: 20 }, 0.5)).toBe(true); // 300
    expect(best.offer('horse_001', coordinateFrame(100, 80, 4), { x: 10, y: 10, w: 30, h: 20 }, 0.5)).toBe(false); // tie keeps the first
    expect(best.offer('horse_002', coordinateFrame(100, 80, 5), { x: 50, y: 40, w: 10, h: 10 }, 0.9)).toBe(true);
    expect(best.offer('horse_002', coordinateFrame(100, 80, 6), { x: 50, y: 40, w: 0, h: 10 }, 0.9)).toBe(false);
    const one = best.get('horse_001');
    expect(one?.quality).toBe(300);
    expect(one === undefined ? [] : pixel(one, 0, 0)).toEqual([7, 8, 3]);
    expect(best.get('horse_002')?.quality).toBeCloseTo(90);
    expect(best.size).toBe(2);
    expect(best.get('horse_003')).toBeUndefined();
  });

  it('moves a crop to another key, keeping the better one', () => {
    const best = new BestThumbnails<number>();
    best.offer(1, coordinateFrame(50, 50, 1), { x: 0, y: 0, w: 10, h: 10 }, 1);
    best.offer(2, coordinateFrame(50, 50, 2), { x: 0, y: 0, w: 20, h: 20 }, 1);
    best.rename(1, 2);
    expect(best.has(1)).toBe(false);
    expect(best.get(2)?.quality).toBe(400);
  });
});

describe('encodeThumbnail', () => {
  it('fits the crop into 200x200 as a JPEG without enlarging small crops', async () => {
    const wide = await sharp(await encodeThumbnail(noiseCrop(640, 320))).metadata();
    expect([wide.format, wide.width, wide.height]).toEqual(['jpeg', 200, 100]);
    const small = await sharp(await encodeThumbnail(noiseCrop(60, 90))).metadata();
    expect([small.format, small.width, small.height]).toEqual(['jpeg', 60, 90]);
  });

  it('re-encodes a crop that exceeds 50 KB at quality 80 until it fits', async () => {
    const crop = noiseCrop(200, 200);
    const atQuality80 = await sharp(crop.data, { raw: { width: 200, height: 200, channels: 3 } })
      .jpeg({ quality: 80, chromaSubsampling: '4:4:4' })
      .toBuffer();
    expect(atQuality80.length).toBeGreaterThan(TARGET_THUMBNAIL_BYTES); // the case this test is about
    const jpeg = await encodeThumbnail(crop);
    expect(jpeg.length).toBeLessThanOrEqual(TARGET_THUMBNAIL_BYTES);
    expect(jpeg.length).toBeLessThan(MAX_THUMBNAIL_BYTES);
    const meta = await sharp(jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 200, 200]);
  });

  it('encodes an ordinary crop at quality 80 in a few KB', async () => {
    const frame = coordinateFrame(256, 200);
    const jpeg = await encodeThumbnail(cropForThumbnail(frame, { x: 30, y: 20, w: 180, h: 150 }, 1));
    expect(jpeg.length).toBeLessThan(20_000);
    expect(jpeg.subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
  });

  it('refuses a crop whose data does not match its size', async () => {
    await expect(encodeThumbnail({ width: 10, height: 10, data: Buffer.alloc(5), quality: 1 })).rejects.toMatchObject({ code: 'THUMBNAIL_INVALID' });
  });
});
