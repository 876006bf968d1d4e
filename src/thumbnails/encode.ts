import sharp from 'sharp';
import { PaddockError } from '../errors/index.ts';
import type { ThumbnailCrop } from './crop.ts';

/** The database's CHECK on horses.avatar_thumbnail. */
export const MAX_THUMBNAIL_BYTES = 102_400;
/** What we aim for; lower qualities are tried until the JPEG fits. */
export const TARGET_THUMBNAIL_BYTES = 51_200;
export const THUMBNAIL_SIZE = 200;

interface JpegAttempt {
  quality: number;
  chromaSubsampling: '4:4:4' | '4:2:0';
}

// Full chroma first: a coat's colour is what people recognise a horse by in a small avatar.
const ATTEMPTS: readonly JpegAttempt[] = [
  { quality: 80, chromaSubsampling: '4:4:4' },
  { quality: 70, chromaSubsampling: '4:4:4' },
  { quality: 60, chromaSubsampling: '4:4:4' },
  { quality: 50, chromaSubsampling: '4:2:0' },
  { quality: 40, chromaSubsampling: '4:2:0' },
  { quality: 30, chromaSubsampling: '4:2:0' },
  { quality: 20, chromaSubsampling: '4:2:0' },
  { quality: 10, chromaSubsampling: '4:2:0' },
];

/**
 * Encodes a crop as a JPEG fitted into 200×200 (never enlarged): quality 80, re-encoded at
 * lower quality until it is at most 50 KB. Throws THUMBNAIL_TOO_LARGE rather than return
 * anything over the 100 KB database limit.
 */
export async function encodeThumbnail(crop: ThumbnailCrop): Promise<Buffer> {
  const { width, height, data } = crop;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0) || data.length !== width * height * 3) {
    throw new PaddockError('THUMBNAIL_INVALID', `thumbnail crop is not ${width}x${height} RGB24 (${data.length} bytes)`, {
      details: { width, height, bytes: data.length },
    });
  }
  const fit = { width: THUMBNAIL_SIZE, height: THUMBNAIL_SIZE, fit: 'inside', withoutEnlargement: true } as const;
  // Nearly every avatar fits at the first attempt: resize and encode in one pass (a quarter less time).
  const first = await sharp(data, { raw: { width, height, channels: 3 } }).resize(fit).jpeg(ATTEMPTS[0]).toBuffer();
  if (first.length <= TARGET_THUMBNAIL_BYTES) return first;
  const fitted = await sharp(data, { raw: { width, height, channels: 3 } }).resize(fit).raw().toBuffer({ resolveWithObject: true });
  const raw = { width: fitted.info.width, height: fitted.info.height, channels: 3 as const };
  let smallest: Buffer = first;
  for (const attempt of ATTEMPTS.slice(1)) {
    const jpeg = await sharp(fitted.data, { raw }).jpeg(attempt).toBuffer();
    if (jpeg.length <= TARGET_THUMBNAIL_BYTES) return jpeg;
    if (jpeg.length < smallest.length) smallest = jpeg;
  }
  if (smallest.length <= MAX_THUMBNAIL_BYTES) return smallest;
  throw new PaddockError('THUMBNAIL_TOO_LARGE', `thumbnail is ${smallest.length} bytes even at the lowest quality; the limit is ${MAX_THUMBNAIL_BYTES}`, {
    details: { bytes: smallest.length, limit: MAX_THUMBNAIL_BYTES },
  });
}

/** Sighting pictures (a horse's timeline) between avatar changes: small, one encode. */
export const SIGHTING_THUMBNAIL_SIZE = 96;

export async function encodeSightingThumbnail(crop: ThumbnailCrop): Promise<Buffer> {
  const { width, height, data } = crop;
  return sharp(data, { raw: { width, height, channels: 3 } })
    .resize({ width: SIGHTING_THUMBNAIL_SIZE, height: SIGHTING_THUMBNAIL_SIZE, fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 70 })
    .toBuffer();
}
