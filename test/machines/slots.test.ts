import { describe, expect, it } from 'vitest';
import { SlotTable } from '../../machines/slots.ts';

describe('SlotTable', () => {
  it('grants up to capacity, then queues FIFO and hands a freed slot to the longest waiter', () => {
    const slots = new SlotTable(2);
    expect(slots.request('a')).toBe(true);
    expect(slots.request('b')).toBe(true);
    expect(slots.request('c')).toBe(false);
    expect(slots.request('d')).toBe(false);
    expect([slots.inUse, slots.queued]).toEqual([2, 2]);
    expect(slots.release('a')).toBe('c');
    expect(slots.request('a')).toBe(false); // back of the queue, behind d
    expect(slots.release('b')).toBe('d');
    expect(slots.release('c')).toBe('a');
    expect(slots.release('d')).toBe(null);
    expect(slots.release('a')).toBe(null);
    expect([slots.inUse, slots.queued]).toEqual([0, 0]);
  });

  it('lets a waiter give up its place, and ignores releases of streams that hold nothing', () => {
    const slots = new SlotTable(1);
    slots.request('a');
    slots.request('b');
    slots.request('c');
    expect(slots.release('b')).toBe(null); // b leaves the queue
    expect(slots.release('zzz')).toBe(null);
    expect(slots.release('a')).toBe('c');
    expect(slots.holds('c')).toBe(true);
  });

  it('does not let a newcomer jump the queue when a slot frees up', () => {
    const slots = new SlotTable(1);
    slots.request('a');
    slots.request('b');
    // a releases; b is granted in the same step, so a newcomer finds no free slot.
    expect(slots.release('a')).toBe('b');
    expect(slots.request('c')).toBe(false);
    // a repeated request from a holder is answered with the slot it holds.
    expect(slots.request('b')).toBe(true);
    expect(slots.inUse).toBe(1);
  });
});
