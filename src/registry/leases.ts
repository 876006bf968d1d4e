/**
 * Stream leases and replica liveness on the registry's database (migration 009): the SQL half
 * of stream ownership. Policy (who should own what, when to renew, hand over) lives in
 * src/ownership; this only reads and changes rows, on the database's clock.
 *
 * A lease's `token` grows by one on every acquisition and is never reset (rows are expired,
 * never deleted), so it fences: a write checked against the token it was started with fails
 * once anyone else acquired the stream since.
 */
import { PaddockError } from '../errors/index.ts';
import type { SqlClient } from './database.ts';

export interface Lease {
  streamId: string;
  owner: string;
  token: number;
}

/** What every replica sees of the cluster on a tick. */
export interface ClusterView {
  /** Replicas whose liveness row has not expired, sorted. */
  replicas: string[];
  /** Leases not expired. */
  leases: Lease[];
}

const ttlParam = (ttlMs: number) => Math.max(1, Math.round(ttlMs));

export class LeaseTable {
  constructor(private readonly db: SqlClient) {}

  /**
   * Takes the stream's lease when it is free (never held, expired or released) or already ours
   * under an older token; returns the new fencing token, or null when another replica holds it.
   */
  async acquire(streamId: string, owner: string, ttlMs: number): Promise<number | null> {
    const { rows } = await this.db.query<{ token: number }>(
      `INSERT INTO stream_leases (stream_id, owner, token, expires_at) VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
       ON CONFLICT (stream_id) DO UPDATE SET owner = EXCLUDED.owner, token = stream_leases.token + 1,
                                             expires_at = EXCLUDED.expires_at, acquired_at = now()
       WHERE stream_leases.expires_at <= now() OR stream_leases.owner = EXCLUDED.owner
       RETURNING token`,
      [streamId, owner, ttlParam(ttlMs)],
    );
    return rows[0] === undefined ? null : Number(rows[0].token);
  }

  /** Extends the leases still held with these tokens; returns the streams renewed (the others were lost). */
  async renew(owner: string, held: ReadonlyArray<{ streamId: string; token: number }>, ttlMs: number): Promise<Set<string>> {
    if (held.length === 0) return new Set();
    const { rows } = await this.db.query<{ stream_id: string }>(
      `UPDATE stream_leases AS l SET expires_at = now() + $2 * interval '1 millisecond'
         FROM unnest($3::text[], $4::bigint[]) AS h(stream_id, token)
        WHERE l.stream_id = h.stream_id AND l.token = h.token AND l.owner = $1
       RETURNING l.stream_id`,
      [owner, ttlParam(ttlMs), held.map((lease) => lease.streamId), held.map((lease) => lease.token)],
    );
    return new Set(rows.map((row) => row.stream_id));
  }

  /** Gives a lease up at once (a hand-over or a shutdown); a lease already taken by another is left alone. */
  async release(streamId: string, owner: string, token: number): Promise<void> {
    await this.db.query(`UPDATE stream_leases SET expires_at = now() WHERE stream_id = $1 AND owner = $2 AND token = $3`, [streamId, owner, token]);
  }

  /**
   * At start-up: leases still held under this replica's name belong to a predecessor that died
   * without releasing them. Expire them and move their tokens on, so that predecessor (were it
   * only paused) can write nothing more. Returns how many there were.
   */
  async resetOwner(owner: string): Promise<number> {
    const { rows } = await this.db.query<{ stream_id: string }>(
      `UPDATE stream_leases SET expires_at = now(), token = token + 1 WHERE owner = $1 AND expires_at > now() RETURNING stream_id`,
      [owner],
    );
    return rows.length;
  }

  /** Forgets replicas gone for a day (killed pods never leave; their rows would pile up). */
  async forgetDeparted(): Promise<number> {
    const { rows } = await this.db.query<{ replica_id: string }>(`DELETE FROM paddock_replicas WHERE expires_at < now() - interval '1 day' RETURNING replica_id`);
    return rows.length;
  }

  /** The replica is alive for another `ttlMs`. */
  async heartbeat(replica: string, ttlMs: number): Promise<void> {
    await this.db.query(
      `INSERT INTO paddock_replicas (replica_id, expires_at) VALUES ($1, now() + $2 * interval '1 millisecond')
       ON CONFLICT (replica_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [replica, ttlParam(ttlMs)],
    );
  }

  /** The replica leaves (a graceful shutdown): the others share its streams at once. */
  async leave(replica: string): Promise<void> {
    await this.db.query(`DELETE FROM paddock_replicas WHERE replica_id = $1`, [replica]);
  }

  async view(): Promise<ClusterView> {
    const [replicas, leases] = await Promise.all([
      this.db.query<{ replica_id: string }>(`SELECT replica_id FROM paddock_replicas WHERE expires_at > now() ORDER BY replica_id`),
      this.db.query<{ stream_id: string; owner: string; token: number }>(`SELECT stream_id, owner, token FROM stream_leases WHERE expires_at > now()`),
    ]);
    return {
      replicas: replicas.rows.map((row) => row.replica_id),
      leases: leases.rows.map((row) => ({ streamId: row.stream_id, owner: row.owner, token: Number(row.token) })),
    };
  }
}

/** Ownership's side of the registry's writes (src/ownership implements it). */
export interface WriteFence {
  readonly replicaId: string;
  /** The token this replica holds for the stream, or null when it holds none. */
  tokenOf(streamId: string): number | null;
  /** A write was refused: another replica owns the stream now. */
  onFenced(streamId: string, error: PaddockError): void;
}

/** Runs the fence check inside a write's transaction (nothing without a fence: one process, no leases). */
export async function enforceFence(client: SqlClient, streamId: string, fence: WriteFence | null): Promise<void> {
  if (fence === null) return;
  try {
    await checkLeaseToken(client, streamId, fence.replicaId, fence.tokenOf(streamId));
  } catch (error) {
    if (error instanceof PaddockError && error.ownershipLost) fence.onFenced(streamId, error);
    throw error;
  }
}

/**
 * Checks, inside a registry write's transaction, that `token` is still the stream's lease token.
 * The row lock (FOR SHARE) holds off a concurrent acquisition until the write commits, so no
 * write with an old token can land after a new owner took over.
 */
export async function checkLeaseToken(client: SqlClient, streamId: string, owner: string, token: number | null): Promise<void> {
  if (token === null) throw leaseLost(streamId, owner, 'this replica does not hold its lease');
  const { rows } = await client.query<{ token: number; owner: string }>(`SELECT token, owner FROM stream_leases WHERE stream_id = $1 FOR SHARE`, [streamId]);
  const current = rows[0];
  if (current === undefined || Number(current.token) !== token) {
    throw leaseLost(streamId, owner, `its lease moved on to ${current?.owner ?? 'nobody'} (token ${current?.token ?? 'none'}, this write holds ${token})`);
  }
}

function leaseLost(streamId: string, owner: string, why: string): PaddockError {
  return new PaddockError('LEASE_LOST', `write to stream ${streamId} by replica ${owner} refused: ${why}`, { details: { stream_id: streamId, replica: owner } });
}
