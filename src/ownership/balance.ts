/**
 * Who should own which stream: pure decisions over what every replica reads from the lease
 * table, so replicas agree without talking to each other.
 *
 * Each stream has a preference order over replicas (rendezvous hashing: highest
 * hash(stream, replica) first), and no replica holds more than its fair share,
 * ceil(active streams / live replicas). A free stream goes to its most-preferred replica still
 * under its share; a replica over its share hands over the streams it prefers least. Adding a
 * replica lowers the share, so the others hand over just enough streams for it; a replica that
 * dies stops renewing, its leases expire and its streams go to the next preferred replicas.
 */
import type { ClusterView } from '../registry/index.ts';

/** Rendezvous weight of `replica` for `stream` (FNV-1a, 32 bits, then a murmur finaliser). */
export function preference(streamId: string, replicaId: string): number {
  let hash = 0x811c9dc5;
  const key = `${streamId}\u0000${replicaId}`;
  for (let i = 0; i < key.length; i += 1) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** The most streams one replica should hold. */
export function fairShare(streams: number, replicas: number): number {
  return Math.max(1, Math.ceil(streams / Math.max(1, replicas)));
}

/** This replica's picture: the shared view, with its own holdings as it knows them (fresher than the view). */
export interface LocalView {
  me: string;
  view: ClusterView;
  /** Streams this replica holds now. */
  mine: ReadonlySet<string>;
}

function replicasOf(local: LocalView): string[] {
  return local.view.replicas.includes(local.me) ? local.view.replicas : [...local.view.replicas, local.me].sort();
}

/** Streams held per replica: the view's leases for the others, its own set for this one. */
function loadsOf(local: LocalView): Map<string, number> {
  const loads = new Map<string, number>(replicasOf(local).map((replica) => [replica, 0]));
  for (const lease of local.view.leases) {
    if (lease.owner === local.me) continue;
    loads.set(lease.owner, (loads.get(lease.owner) ?? 0) + 1);
  }
  loads.set(local.me, local.mine.size);
  return loads;
}

function activeStreams(local: LocalView, extra: string | null): number {
  const streams = new Set(local.mine);
  for (const lease of local.view.leases) if (lease.owner !== local.me) streams.add(lease.streamId);
  if (extra !== null) streams.add(extra);
  return streams.size;
}

/** The replica a free stream should go to: the most preferred live replica under its fair share. */
export function chosenOwner(streamId: string, local: LocalView): string {
  const replicas = replicasOf(local);
  const share = fairShare(activeStreams(local, streamId), replicas.length);
  const loads = loadsOf(local);
  let best: string | null = null;
  let bestWeight = -1;
  for (const replica of replicas) {
    if ((loads.get(replica) ?? 0) >= share) continue;
    const weight = preference(streamId, replica);
    if (weight > bestWeight) {
      best = replica;
      bestWeight = weight;
    }
  }
  // Every replica at its share cannot happen (the share counts this stream); keep a sane answer.
  return best ?? local.me;
}

/** The streams this replica should hand over: beyond its fair share, those it is least preferred for. */
export function streamsToHandOver(local: LocalView): string[] {
  const share = fairShare(activeStreams(local, null), replicasOf(local).length);
  const excess = local.mine.size - share;
  if (excess <= 0) return [];
  return [...local.mine].sort((a, b) => preference(a, local.me) - preference(b, local.me) || (a < b ? -1 : 1)).slice(0, excess);
}
