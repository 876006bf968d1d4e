/**
 * Tracking admission: at most `capacity` streams hold a tracking slot at once; the others wait
 * in FIFO order of their request. A stream holds at most one slot (it tracks one chunk at a
 * time) and re-requests after releasing, so it goes to the back of the queue: one busy stream
 * cannot starve the others. Plain data with in-place updates; owned by the supervisor's context.
 */
export class SlotTable {
  private readonly holders = new Set<string>();
  private readonly waiting = new Set<string>(); // insertion order is the queue order

  constructor(readonly capacity: number) {}

  /** True when the slot is granted now; false when the stream was queued. */
  request(streamId: string): boolean {
    if (this.holders.has(streamId)) return true;
    if (this.holders.size < this.capacity && this.waiting.size === 0) {
      this.holders.add(streamId);
      return true;
    }
    this.waiting.add(streamId);
    return false;
  }

  /**
   * Gives up the stream's slot or its place in the queue. Returns the stream that got the
   * freed slot, if any.
   */
  release(streamId: string): string | null {
    if (this.waiting.delete(streamId)) return null;
    if (!this.holders.delete(streamId)) return null;
    return this.grantNext();
  }

  private grantNext(): string | null {
    if (this.holders.size >= this.capacity) return null;
    for (const next of this.waiting) {
      this.waiting.delete(next);
      this.holders.add(next);
      return next;
    }
    return null;
  }

  get inUse(): number {
    return this.holders.size;
  }

  get queued(): number {
    return this.waiting.size;
  }

  holds(streamId: string): boolean {
    return this.holders.has(streamId);
  }
}
