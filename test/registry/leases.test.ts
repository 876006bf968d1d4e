/**
 * Stream leases and the fencing token on real PostgreSQL: acquisition, renewal, expiry, release,
 * and registry writes refused once the lease moved on (nothing of them lands).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PaddockError } from '../../src/errors/index.ts';
import { silentLogger } from '../../src/log/index.ts';
import type { Database } from '../../src/registry/database.ts';
import { LeaseTable, type WriteFence } from '../../src/registry/leases.ts';
import { MemoryHotCache } from '../../src/registry/memory-cache.ts';
import { SqlRegistryStore } from '../../src/registry/sql-store.ts';
import { chunk, newHorseUpdate } from '../helpers/registry-fixtures.ts';
import { migratedScratchDatabase } from '../helpers/migrated-database.ts';
import { serviceAvailable } from '../helpers/services.ts';

const postgresUp = await serviceAvailable('postgres');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A fence holding fixed tokens, recording what was refused. */
function fixedFence(replicaId: string, tokens: Map<string, number>) {
  const fenced: string[] = [];
  const fence: WriteFence = {
    replicaId,
    tokenOf: (streamId) => tokens.get(streamId) ?? null,
    onFenced: (streamId) => void fenced.push(streamId),
  };
  return { fence, fenced };
}

describe.skipIf(!postgresUp)('stream leases on PostgreSQL', () => {
  let db: Database;
  let close: () => Promise<void>;
  let leases: LeaseTable;

  beforeAll(async () => {
    ({ db, close } = await migratedScratchDatabase());
    leases = new LeaseTable(db);
  });

  afterAll(async () => {
    await close?.();
  });

  it('gives a stream to one replica at a time, with a token that only grows', async () => {
    expect(await leases.acquire('s1', 'a', 10_000)).toBe(1);
    expect(await leases.acquire('s1', 'b', 10_000)).toBeNull();
    expect(await leases.renew('a', [{ streamId: 's1', token: 1 }], 10_000)).toEqual(new Set(['s1']));
    await leases.release('s1', 'a', 1);
    expect(await leases.acquire('s1', 'b', 10_000)).toBe(2);
    // The former owner's renewal finds its lease gone.
    expect(await leases.renew('a', [{ streamId: 's1', token: 1 }], 10_000)).toEqual(new Set());
    // A release with an old token changes nothing.
    await leases.release('s1', 'a', 1);
    expect(await leases.acquire('s1', 'c', 10_000)).toBeNull();
    expect((await leases.view()).leases.find((lease) => lease.streamId === 's1')).toEqual({ streamId: 's1', owner: 'b', token: 2 });
  });

  it('lets a lease expire when it is not renewed, and the next owner takes it with a new token', async () => {
    expect(await leases.acquire('s2', 'a', 300)).toBe(1);
    expect(await leases.acquire('s2', 'b', 300)).toBeNull();
    await sleep(450);
    expect(await leases.acquire('s2', 'b', 10_000)).toBe(2);
    expect(await leases.renew('a', [{ streamId: 's2', token: 1 }], 10_000)).toEqual(new Set());
  });

  it('at start-up, fences off what a predecessor under the same replica id still held', async () => {
    expect(await leases.acquire('s3', 'host-1', 10_000)).toBe(1);
    expect(await leases.resetOwner('host-1')).toBe(1);
    expect(await leases.renew('host-1', [{ streamId: 's3', token: 1 }], 10_000)).toEqual(new Set());
    expect(await leases.acquire('s3', 'host-2', 10_000)).toBe(3);
  });

  it('counts replicas alive until their row expires or they leave', async () => {
    await leases.heartbeat('r1', 10_000);
    await leases.heartbeat('r2', 250);
    expect((await leases.view()).replicas).toEqual(expect.arrayContaining(['r1', 'r2']));
    await sleep(400);
    expect((await leases.view()).replicas).toContain('r1');
    expect((await leases.view()).replicas).not.toContain('r2');
    await leases.leave('r1');
    expect((await leases.view()).replicas).not.toContain('r1');
    // A replica gone for more than a day is forgotten; a recent one is kept.
    await db.query(`UPDATE paddock_replicas SET expires_at = now() - interval '25 hours' WHERE replica_id = 'r2'`);
    await leases.heartbeat('r3', 250);
    expect(await leases.forgetDeparted()).toBe(1);
    expect((await db.query(`SELECT replica_id FROM paddock_replicas WHERE replica_id IN ('r2', 'r3')`)).rows).toEqual([{ replica_id: 'r3' }]);
  });

  it('refuses a registry write made with an old token: no chunk-log row, no horse, no version, no attempt count', async () => {
    const store = new SqlRegistryStore(db, new MemoryHotCache({ ttlSeconds: 60, indexSize: 50 }), silentLogger(), { maxExemplars: 8 });
    const first = await leases.acquire('cam', 'old', 10_000);
    const { fence: oldFence, fenced } = fixedFence('old', new Map([['cam', first!]]));
    store.setWriteFence(oldFence);
    await store.saveChunk(chunk('cam', 1), [newHorseUpdate(1)]);
    expect(await store.registryVersion('cam')).toBe(1);
    // While the lease carries the token, attempts are counted and uncounted as without leases.
    await store.attemptStarted('cam', 'cam-c1');
    await store.attemptStarted('cam', 'cam-c1');
    expect(await store.interruptedAttempts('cam', 'cam-c1')).toBe(2);
    await store.attemptEnded('cam', 'cam-c1');
    await store.attemptEnded('cam', 'cam-c1');
    expect(await store.interruptedAttempts('cam', 'cam-c1')).toBe(0);

    // The old owner pauses past its TTL; another replica takes the stream over.
    await db.query(`UPDATE stream_leases SET expires_at = now() WHERE stream_id = 'cam'`);
    const second = await leases.acquire('cam', 'new', 10_000);
    expect(second).toBe(first! + 1);

    const late = await store.saveChunk(chunk('cam', 2), [newHorseUpdate(2)]).then(() => null, (error: unknown) => error);
    expect(late).toBeInstanceOf(PaddockError);
    expect((late as PaddockError).code).toBe('LEASE_LOST');
    expect((late as PaddockError).ownershipLost).toBe(true);
    const attempt = await store.attemptStarted('cam', 'cam-c3').then(() => null, (error: unknown) => error);
    expect((attempt as PaddockError).code).toBe('LEASE_LOST');
    expect(fenced).toEqual(['cam', 'cam']);
    expect(await store.registryVersion('cam')).toBe(1);
    expect(await store.isChunkProcessed('cam', chunk('cam', 2).chunkId)).toBe(false);
    expect((await store.listHorses('cam')).map((horse) => horse.id)).toEqual(['horse_001']);
    expect(await store.interruptedAttempts('cam', 'cam-c3')).toBe(0);

    // The new owner writes with its token, and the chunk log says who did.
    store.setWriteFence(fixedFence('new', new Map([['cam', second!]])).fence);
    await store.saveChunk(chunk('cam', 2), [newHorseUpdate(2)]);
    const { rows } = await db.query<{ chunk_id: string; processed_by: string }>(`SELECT chunk_id, processed_by FROM stream_chunks WHERE stream_id = 'cam' ORDER BY sequence`);
    expect(rows.map((row) => row.processed_by)).toEqual(['old', 'new']);

    // A replica that holds no lease for the stream writes nothing either.
    store.setWriteFence(fixedFence('stranger', new Map()).fence);
    await expect(store.saveChunk(chunk('cam', 3), [])).rejects.toMatchObject({ code: 'LEASE_LOST' });
    store.setWriteFence(null);
  });
});
