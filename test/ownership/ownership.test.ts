/**
 * StreamOwnership instances (one per replica) sharing a real PostgreSQL lease table, in one
 * process: admission, balance, hand-over when a replica joins, take-over when one stops renewing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChunkDelivery } from '../../machines/types.ts';
import { silentLogger } from '../../src/log/index.ts';
import { StreamOwnership } from '../../src/ownership/index.ts';
import type { Database } from '../../src/registry/database.ts';
import { LeaseTable } from '../../src/registry/leases.ts';
import { migratedScratchDatabase } from '../helpers/migrated-database.ts';
import { serviceAvailable } from '../helpers/services.ts';

const postgresUp = await serviceAvailable('postgres');
const TTL_MS = 1500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function delivery(streamId: string, deliveryCount = 1): ChunkDelivery {
  return {
    event: { streamId, chunkId: `${streamId}-1`, sequence: 1, uri: 'file:///x.mp4', startTime: new Date(), durationS: 10 },
    deliveryCount,
    handle: null,
  };
}

interface Replica {
  id: string;
  ownership: StreamOwnership;
  givenUp: string[];
}

describe.skipIf(!postgresUp)('stream ownership across replicas', () => {
  let db: Database;
  let close: () => Promise<void>;
  let leases: LeaseTable;
  const replicas: Replica[] = [];

  const startReplica = async (id: string): Promise<Replica> => {
    const givenUp: string[] = [];
    const ownership = new StreamOwnership({ replicaId: id, leaseTtlMs: TTL_MS, leases, logger: silentLogger(), giveUp: (streamId) => void givenUp.push(streamId), manualTicks: true });
    await ownership.start();
    const replica = { id, ownership, givenUp };
    replicas.push(replica);
    return replica;
  };

  /** Offers a delivery round-robin from `first` (as JetStream would hand it to any puller) until one replica routes it. */
  const deliver = async (streamId: string, among: Replica[], first = 0): Promise<{ owner: Replica; deliveries: number }> => {
    for (let count = 1; count <= 100; count += 1) {
      const replica = among[(first + count - 1) % among.length]!;
      if ((await replica.ownership.admit(delivery(streamId, count))).route) return { owner: replica, deliveries: count };
    }
    const reasons = await Promise.all(among.map(async (replica) => `${replica.id}: ${JSON.stringify(await replica.ownership.admit(delivery(streamId)))} owned ${replica.ownership.owned}`));
    throw new Error(`nobody took ${streamId}: ${reasons.join("; ")}`);
  };

  /**
   * Rounds of renewal until nobody hands anything over: views are read once per round, so a
   * placement made on a stale view is evened out on the next round, as in a running cluster.
   */
  const settle = async (among: Replica[]): Promise<string[]> => {
    const moved: string[] = [];
    for (let round = 0; round < 5; round += 1) {
      for (const replica of among) await replica.ownership.tick();
      const given = among.flatMap((replica) => replica.givenUp.splice(0).map((streamId) => ({ replica, streamId })));
      if (given.length === 0) return moved;
      for (const { replica, streamId } of given) await replica.ownership.released(streamId);
      for (const replica of among) await replica.ownership.tick();
      for (const { streamId } of given) {
        moved.push(streamId);
        await deliver(streamId, among);
      }
    }
    throw new Error('ownership did not settle in 5 rounds');
  };

  beforeAll(async () => {
    ({ db, close } = await migratedScratchDatabase());
    leases = new LeaseTable(db);
  });

  afterAll(async () => {
    for (const replica of replicas) await replica.ownership.stop().catch(() => {});
    await close?.();
  });

  it('routes each stream to one replica, balances them, hands streams to a replica that joins, and takes over from one that stops renewing', async () => {
    const [a, b] = [await startReplica('a'), await startReplica('b')];
    await a.ownership.tick();
    const streams = Array.from({ length: 12 }, (_, i) => `cam-${i + 1}`);
    const owners = new Map<string, Replica>();
    for (const [i, streamId] of streams.entries()) await deliver(streamId, [a, b], i);
    await settle([a, b]);
    expect([a.ownership.owned, b.ownership.owned]).toEqual([6, 6]);
    for (const streamId of streams) owners.set(streamId, a.ownership.tokenOf(streamId) === null ? b : a);
    // Once owned, every later delivery routes to the owner and is handed back by the other.
    for (const [streamId, owner] of owners) {
      expect((await owner.ownership.admit(delivery(streamId))).route).toBe(true);
      const other = owner === a ? b : a;
      expect(await other.ownership.admit(delivery(streamId))).toMatchObject({ route: false, reason: 'owned-elsewhere' });
    }

    // A third replica joins: the others see it on their next round and hand over their excess.
    const c = await startReplica('c');
    await a.ownership.tick();
    await b.ownership.tick();
    const handedOver = [...a.givenUp.splice(0), ...b.givenUp.splice(0)];
    expect(handedOver.length).toBe(4);
    // Until the actor wound down, the stream is still ours, and deliveries of it are handed back.
    const releasing = a.ownership.tokenOf(handedOver[0]!) === null ? b : a;
    expect(await releasing.ownership.admit(delivery(handedOver[0]!))).toMatchObject({ route: false, reason: 'releasing' });
    for (const streamId of handedOver) await (a.ownership.tokenOf(streamId) === null ? b : a).ownership.released(streamId);
    await c.ownership.tick();
    for (const streamId of handedOver) expect((await deliver(streamId, [a, b, c])).owner).toBe(c);
    expect(await settle([a, b, c])).toEqual([]);
    expect([a.ownership.owned, b.ownership.owned, c.ownership.owned]).toEqual([4, 4, 4]);

    // b stops renewing (paused, partitioned): after the TTL the others share its streams.
    const bStreams = streams.filter((streamId) => b.ownership.tokenOf(streamId) !== null);
    const oldTokens = new Map(bStreams.map((streamId) => [streamId, b.ownership.tokenOf(streamId)!]));
    await sleep(TTL_MS + 300);
    await a.ownership.tick();
    await c.ownership.tick();
    for (const streamId of bStreams) {
      const { owner } = await deliver(streamId, [a, c]);
      expect(owner.ownership.tokenOf(streamId)).toBe(oldTokens.get(streamId)! + 1);
    }
    await settle([a, c]);
    expect([a.ownership.owned, c.ownership.owned]).toEqual([6, 6]);

    // b wakes up: its renewal finds every lease gone and it gives the streams up.
    b.givenUp.length = 0;
    await b.ownership.tick();
    expect(b.givenUp.sort()).toEqual([...bStreams].sort());
    expect(b.ownership.owned).toBe(0);
  });
});
