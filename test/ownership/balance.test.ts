import { describe, expect, it } from 'vitest';
import { chosenOwner, fairShare, preference, streamsToHandOver, type LocalView } from '../../src/ownership/index.ts';
import type { Lease } from '../../src/registry/index.ts';

const streams = Array.from({ length: 20 }, (_, i) => `cam-${String(i + 1).padStart(2, '0')}`);

/** Places streams one by one as the replicas would, each seeing the same lease table. */
function place(names: string[], replicas: string[], leases: Lease[] = []): Lease[] {
  const placed = [...leases];
  for (const streamId of names) {
    const view = { replicas, leases: placed };
    const owner = chosenOwner(streamId, { me: replicas[0]!, view, mine: new Set(placed.filter((l) => l.owner === replicas[0]).map((l) => l.streamId)) });
    placed.push({ streamId, owner, token: 1 });
  }
  return placed;
}

function loads(leases: Lease[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const lease of leases) counts[lease.owner] = (counts[lease.owner] ?? 0) + 1;
  return counts;
}

function localOf(me: string, replicas: string[], leases: Lease[]): LocalView {
  return { me, view: { replicas, leases }, mine: new Set(leases.filter((lease) => lease.owner === me).map((lease) => lease.streamId)) };
}

describe('stream balance', () => {
  it('ranks replicas per stream, the same way everywhere, and differently across streams', () => {
    expect(preference('cam-01', 'a')).toBe(preference('cam-01', 'a'));
    const firsts = new Set(streams.map((s) => ['a', 'b', 'c'].sort((x, y) => preference(s, y) - preference(s, x))[0]));
    expect(firsts.size).toBe(3);
    expect(fairShare(20, 3)).toBe(7);
    expect(fairShare(0, 3)).toBe(1);
  });

  it('spreads 20 streams over 3 replicas within the fair share, whichever replica decides', () => {
    const placed = place(streams, ['a', 'b', 'c']);
    const counts = loads(placed);
    expect(Object.values(counts).sort()).toEqual([6, 7, 7]);
    // Each replica, asked about a stream, names the same owner as the others.
    const view = { replicas: ['a', 'b', 'c'], leases: placed.slice(0, 10) };
    for (const streamId of streams.slice(10)) {
      const answers = ['a', 'b', 'c'].map((me) => chosenOwner(streamId, { me, view, mine: new Set(view.leases.filter((l) => l.owner === me).map((l) => l.streamId)) }));
      expect(new Set(answers).size).toBe(1);
    }
  });

  it('hands over just enough streams to a replica that joins, and they all go to it', () => {
    const placed = place(streams, ['a', 'b', 'c']);
    const replicas = ['a', 'b', 'c', 'd'];
    const handedOver = replicas.flatMap((me) => streamsToHandOver(localOf(me, replicas, placed)));
    expect(handedOver.length).toBe(placed.length - 3 * 5);
    const kept = placed.filter((lease) => !handedOver.includes(lease.streamId));
    expect(Math.max(...Object.values(loads(kept)))).toBeLessThanOrEqual(5);
    const after = place(handedOver, replicas, kept);
    expect(loads(after)).toEqual({ a: 5, b: 5, c: 5, d: 5 });
    // Nothing moves again once balanced.
    expect(replicas.flatMap((me) => streamsToHandOver(localOf(me, replicas, after)))).toEqual([]);
  });

  it('shares the streams of a replica that died among the others, within their new share', () => {
    const placed = place(streams, ['a', 'b', 'c']);
    const orphans = placed.filter((lease) => lease.owner === 'b').map((lease) => lease.streamId);
    const survivors = placed.filter((lease) => lease.owner !== 'b');
    const after = place(orphans, ['a', 'c'], survivors);
    expect(Object.keys(loads(after)).sort()).toEqual(['a', 'c']);
    expect(Math.max(...Object.values(loads(after)))).toBeLessThanOrEqual(10);
    // Streams that stayed put did not move.
    for (const lease of survivors) expect(after.find((l) => l.streamId === lease.streamId)?.owner).toBe(lease.owner);
  });
});
