import type { Box } from '../tracking/index.ts';
import type { DecodedFrame } from '../video/index.ts';
import { cropForThumbnail, thumbnailQuality, type ThumbnailCrop } from './crop.ts';

/**
 * The best thumbnail candidate per key (e.g. per horse) within one chunk. Only the crop of the
 * best candidate is kept, never the frame, so memory stays at one small crop per key.
 */
export class BestThumbnails<K> {
  private readonly best = new Map<K, ThumbnailCrop>();

  /** Keeps the candidate if it beats the key's current best; true when it was kept. */
  offer(key: K, frame: DecodedFrame, box: Box, confidence: number): boolean {
    const quality = thumbnailQuality(box, confidence);
    if (quality <= 0) return false;
    const current = this.best.get(key);
    if (current !== undefined && current.quality >= quality) return false;
    this.best.set(key, cropForThumbnail(frame, box, quality));
    return true;
  }

  get(key: K): ThumbnailCrop | undefined {
    return this.best.get(key);
  }

  has(key: K): boolean {
    return this.best.has(key);
  }

  delete(key: K): boolean {
    return this.best.delete(key);
  }

  /** Moves a key's crop to another key (e.g. a track that was matched to a registered horse). */
  rename(from: K, to: K): void {
    const crop = this.best.get(from);
    if (crop === undefined) return;
    this.best.delete(from);
    const existing = this.best.get(to);
    if (existing === undefined || existing.quality < crop.quality) this.best.set(to, crop);
  }

  entries(): IterableIterator<[K, ThumbnailCrop]> {
    return this.best.entries();
  }

  get size(): number {
    return this.best.size;
  }

  clear(): void {
    this.best.clear();
  }
}
