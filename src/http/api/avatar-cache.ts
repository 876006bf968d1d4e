/**
 * Avatars by horse version, in memory. A thumbnail URL names the horse's version (`?v=`), and a
 * horse's avatar never changes without its version moving, so the picture behind such a URL never
 * changes: browsers keep it for a year, and the server may too. A gallery's first visit asks for
 * its first screenful of avatars at once while the browser is busy starting up on the same cores;
 * answering them from memory instead of one database round trip each is what keeps that page
 * quick. Bounded by bytes; the least recently used avatars go first.
 */
export const AVATAR_CACHE_MAX_BYTES = 16 * 1024 * 1024;

export class AvatarCache {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;

  constructor(private readonly maxBytes: number = AVATAR_CACHE_MAX_BYTES) {}

  get(streamId: string, horseId: string, version: number): Buffer | undefined {
    const key = keyOf(streamId, horseId, version);
    const jpeg = this.entries.get(key);
    if (jpeg !== undefined) {
      // Map order is the recency order: the hit moves to the back.
      this.entries.delete(key);
      this.entries.set(key, jpeg);
    }
    return jpeg;
  }

  set(streamId: string, horseId: string, version: number, jpeg: Buffer): void {
    if (jpeg.byteLength > this.maxBytes) return;
    const key = keyOf(streamId, horseId, version);
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.entries.delete(key);
      this.bytes -= old.byteLength;
    }
    this.entries.set(key, jpeg);
    this.bytes += jpeg.byteLength;
    for (const [oldest, evicted] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= evicted.byteLength;
    }
  }

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

const keyOf = (streamId: string, horseId: string, version: number) => `${streamId}\u0000${horseId}\u0000${version}`;
