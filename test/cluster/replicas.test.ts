/**
 * Scale-out (issue 12): three `paddock run` replicas on this machine share one JetStream consumer,
 * PostgreSQL and Redis. Every chunk is processed exactly once and in order per stream, each
 * stream's registry is the one an undisturbed single process builds, whatever happens to the
 * replicas: kill -9, SIGSTOP past the lease (its late writes are fenced), rolling restarts.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticStream } from '../../src/synth/index.ts';
import { serviceAvailable } from '../helpers/services.ts';
import { undisturbedRegistry } from '../helpers/reference-registry.ts';
import { CHUNK_SECONDS, Cluster, type ChunkRow } from './cluster.ts';

const available = (await serviceAvailable('postgres')) && (await serviceAvailable('redis')) && (await serviceAvailable('nats'));
const LEASE_TTL_S = 3;
const ACK_WAIT_S = 3;
const CHUNKS = 6;
const REPLICAS = ['r1', 'r2', 'r3'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sequences = Array.from({ length: CHUNKS }, (_, i) => i + 1);
const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(2, '0')}`);

describe.skipIf(!available)('three replicas sharing the streams', () => {
  let cluster: Cluster;
  let reference: string;

  beforeAll(async () => {
    cluster = await Cluster.open({ chunks: CHUNKS, leaseTtlS: LEASE_TTL_S, ackWaitS: ACK_WAIT_S });
    reference = await undisturbedRegistry(cluster.chunks, { dataDir: path.join(cluster.dir, 'reference'), chunkSeconds: CHUNK_SECONDS });
    expect(reference).not.toBe('');
    for (const id of REPLICAS) await cluster.start(id);
  }, 180_000);

  afterAll(async () => {
    await cluster?.close();
  });

  /** The chunk log of these streams: exactly the published chunks, once each, committed in sequence order. */
  const expectProcessedOnceInOrder = async (streams: string[], killed?: string): Promise<ChunkRow[]> => {
    const rows = (await cluster.chunkLog()).filter((row) => streams.includes(row.stream_id));
    for (const streamId of streams) {
      expect(rows.filter((row) => row.stream_id === streamId).map((row) => row.sequence), streamId).toEqual(sequences);
    }
    const events = cluster.processedEvents.filter((event) => streams.includes(event.stream_id)).map((event) => event.chunk_id);
    expect(new Set(events).size).toBe(events.length);
    // Output events go out after the ack: a replica killed between its commit and its ack never
    // sends the event of that chunk (the redelivery finds it done). Only those may be missing.
    const published = new Set(events);
    expect(rows.filter((row) => !published.has(row.chunk_id) && (killed === undefined || row.processed_by !== killed)).map((row) => row.chunk_id)).toEqual([]);
    expect(cluster.deadLetters.filter((letter) => streams.includes(String(letter.stream_id)))).toEqual([]);
    const gaps = cluster.allLogs().filter((line) => line.msg === 'gap in chunk sequence; going on without the missing chunk' && streams.includes(String(line.stream_id)));
    expect(gaps).toEqual([]);
    return rows;
  };

  const expectReferenceRegistries = async (streams: string[]) => {
    const registries = await cluster.registries();
    for (const streamId of streams) expect(registries.get(streamId), streamId).toBe(reference);
  };

  it('20 streams × 6 chunks published out of order: each chunk once, in order per stream, the same horses as one process, streams spread evenly', async () => {
    const streams = names('cam', 20);
    await cluster.publishShuffled(streams, sequences, 12);
    await cluster.until(async () => (await cluster.chunkLog()).filter((row) => row.stream_id.startsWith('cam-')).length === 120, 240_000, 'all 120 chunks');
    const rows = await expectProcessedOnceInOrder(streams);
    await expectReferenceRegistries(streams);
    expect(new Set(rows.map((row) => row.processed_by))).toEqual(new Set(REPLICAS));
    // Balanced within the fair share, ceil(20 / 3) = 7 (hand-overs may still be settling).
    await cluster.until(async () => {
      const perReplica = new Map<string, number>();
      for (const [streamId, owner] of await cluster.owners()) if (streamId.startsWith('cam-')) perReplica.set(owner, (perReplica.get(owner) ?? 0) + 1);
      return perReplica.size === 3 && Math.max(...perReplica.values()) <= 7;
    }, 15_000, 'streams spread within the fair share');
  }, 300_000);

  it('kill -9 of a replica mid-chunk: its streams resume elsewhere within the lease TTL + one chunk, nothing lost or processed twice, no duplicate horse', async () => {
    const streams = names('kill', 9);
    await cluster.publishShuffled(streams, sequences, 5);
    const victim = 'r2';
    await cluster.until(() => cluster.logsOf(victim).some((line) => line.msg === 'chunk persisted' && String(line.stream_id).startsWith('kill-')), 60_000, 'the victim working on the kill- streams');
    const owned = [...(await cluster.owners())].filter(([streamId, owner]) => owner === victim && streamId.startsWith('kill-')).map(([streamId]) => streamId);
    const killedAt = new Date();
    cluster.replicas.get(victim)!.child.kill('SIGKILL');
    await cluster.replicas.get(victim)!.exited;
    cluster.replicas.delete(victim);
    try {
      await cluster.until(async () => (await cluster.chunkLog()).filter((row) => row.stream_id.startsWith('kill-')).length === streams.length * CHUNKS, 180_000, 'all kill- chunks');
      const rows = await expectProcessedOnceInOrder(streams, victim);
      await expectReferenceRegistries(streams);
      // Each of the victim's streams with chunks left was taken over by another replica within the
      // TTL + a renewal round (+ 2 s: the next delivery of it, a loaded machine), and its next chunk
      // was persisted by that replica (how soon depends on the queue there: CI runs other suites).
      const resumed = owned.flatMap((streamId) => {
        const next = rows.find((row) => row.stream_id === streamId && row.processed_at > killedAt);
        if (next === undefined) return [];
        // The first acquisition after the kill (a later hand-over may move the stream again).
        const acquiredAt = Math.min(...cluster.allLogs().filter((line) => line.msg === 'stream lease acquired' && line.stream_id === streamId && line.replica !== victim && Number(line.time) > killedAt.getTime()).map((line) => Number(line.time)));
        return [{ streamId, by: next.processed_by, takeOverMs: acquiredAt - killedAt.getTime(), nextChunkMs: next.processed_at.getTime() - killedAt.getTime() }];
      });
      expect(resumed.length).toBeGreaterThan(0);
      console.info(`after kill -9: ${resumed.map((entry) => `${entry.streamId} taken over in ${entry.takeOverMs} ms, next chunk persisted after ${entry.nextChunkMs} ms`).join('; ')}`);
      for (const entry of resumed) {
        expect(entry.by).not.toBe(victim);
        expect(entry.takeOverMs, entry.streamId).toBeLessThanOrEqual((LEASE_TTL_S + LEASE_TTL_S / 3 + 2) * 1000);
      }
    } finally {
      await cluster.start(victim);
    }
  }, 300_000);

  it('SIGSTOP past the lease: another replica takes the stream over, and after SIGCONT the paused replica\'s late write is fenced and it drops the stream', async () => {
    const long = await writeSyntheticStream({ outDir: path.join(cluster.dir, 'long'), horses: 2, chunks: 1, secondsPerChunk: 20, fps: 10, seed: 3, width: 320, height: 180 });
    const streamId = 'stop-01';
    await cluster.publish(streamId, 1);
    await cluster.until(async () => (await cluster.chunkLog()).some((row) => row.stream_id === streamId), 60_000, 'stop-01 chunk 1');
    await cluster.publish(streamId, 2, { uri: long.chunks[0]!, durationS: 20 });
    // Paused in the middle of tracking chunk 2: its attempt is counted from the start of tracking to the end.
    const tracking = async () => (await cluster.db.query(`SELECT 1 FROM chunk_attempts WHERE stream_id = $1 AND chunk_id = $2`, [streamId, `${streamId}-2`])).rows.length > 0;
    await cluster.until(tracking, 30_000, 'the owner tracking chunk 2');
    // The replica tracking chunk 2 holds the lease now (the one of chunk 1 may have lapsed or moved since).
    let victim = '';
    await cluster.until(async () => (victim = (await cluster.owners()).get(streamId) ?? '') !== '', 10_000, 'the owner of stop-01');
    const daemon = cluster.replicas.get(victim)!;
    const httpUrl = String((await daemon.waitForLog((line) => line.msg === 'http endpoints up')).url);
    daemon.child.kill('SIGSTOP');
    try {
      await cluster.until(async () => (await cluster.chunkLog()).some((row) => row.stream_id === streamId && row.sequence === 2), 60_000, 'chunk 2 taken over');
      await cluster.publish(streamId, 3);
      await cluster.until(async () => (await cluster.chunkLog()).some((row) => row.stream_id === streamId && row.sequence === 3), 60_000, 'chunk 3 by the new owner');
    } finally {
      daemon.child.kill('SIGCONT');
    }
    await daemon.waitForLog((line) => line.msg === 'write fenced: another replica owns the stream now' && line.stream_id === streamId, 60_000);
    await daemon.waitForLog((line) => line.msg === 'stream given up to another replica' && line.stream_id === streamId, 30_000);
    const metrics = await (await fetch(`${httpUrl}/metrics`)).text();
    expect(Number(/^paddock_fenced_writes_total (\d+)/m.exec(metrics)?.[1] ?? 0)).toBeGreaterThanOrEqual(1);
    await cluster.publish(streamId, 4);
    await cluster.until(async () => (await cluster.chunkLog()).filter((row) => row.stream_id === streamId).length === 4, 60_000, 'chunk 4');
    await sleep(ACK_WAIT_S * 1000 + 1000); // past another ack wait: nothing comes twice
    const rows = (await cluster.chunkLog()).filter((row) => row.stream_id === streamId);
    expect(rows.map((row) => row.sequence)).toEqual([1, 2, 3, 4]);
    // Chunks 2 and 3 are the new owner's (the paused replica's write of chunk 2 was refused); chunk 4
    // may go anywhere, the paused replica included once it took the stream back in a rebalance.
    expect(rows.slice(1, 3).map((row) => row.processed_by)).not.toContain(victim);
    expect(cluster.deadLetters.filter((letter) => letter.stream_id === streamId)).toEqual([]);
    expect(daemon.child.exitCode).toBeNull();
  }, 300_000);

  it('a rolling restart of every replica under load loses nothing', async () => {
    const streams = names('roll', 10);
    const publishing = (async () => {
      for (const sequence of sequences) {
        for (const streamId of streams) await cluster.publish(streamId, sequence);
        await sleep(1500);
      }
    })();
    for (const id of REPLICAS) {
      expect(await cluster.stop(id)).toBe(0);
      await cluster.start(id);
    }
    await publishing;
    await cluster.until(async () => (await cluster.chunkLog()).filter((row) => row.stream_id.startsWith('roll-')).length === streams.length * CHUNKS, 180_000, 'all roll- chunks');
    await sleep(ACK_WAIT_S * 1000 + 1000);
    await expectProcessedOnceInOrder(streams);
    await expectReferenceRegistries(streams);
  }, 300_000);
});
