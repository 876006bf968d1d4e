/**
 * Stream ownership for several replicas on one JetStream consumer: a replica processes a
 * stream's chunks only while it holds the stream's lease (src/registry/leases.ts), and every
 * registry write it makes checks the lease's fencing token in its own transaction (this class is
 * the registry's WriteFence).
 *
 *   delivery ─► admit ─┬─ held ───────────────────────────────► route to the supervisor
 *                      ├─ free and chosen for us (balance.ts) ─► acquire ─► route
 *                      └─ another replica's, or not ours ──────► hand back (nak, short delay)
 *   every ttl/3: heartbeat, renew held leases (a lease not renewed is lost: give the stream up),
 *                read the cluster, hand over the streams beyond our fair share
 *   stream given up (hand-over, idle, shutdown) ─► release the lease (expire it) at once
 *
 * Order per stream survives hand-backs: JetStream redelivers what is nak'd, and the owner's
 * stream actor puts chunks in sequence order (machines/stream.ts).
 */
import type { ChunkDelivery } from '../../machines/types.ts';
import { errorMessage, type PaddockError } from '../errors/index.ts';
import type { Logger } from '../log/index.ts';
import type { ClusterView, LeaseTable, WriteFence } from '../registry/index.ts';
import { chosenOwner, streamsToHandOver, type LocalView } from './balance.ts';

/**
 * Delay of a hand-back toward the replica that holds (or should take) the stream: JetStream gives
 * the chunk to any replica, so it takes about as many deliveries as there are replicas to reach
 * the owner. The first hand-back is almost immediate, and a chunk that keeps coming back to
 * replicas that are not its owner (an owner that hangs until its lease runs out) backs off.
 */
export function handBackDelayMs(deliveryCount: number): number {
  return Math.min(HAND_BACK_MAX_MS, HAND_BACK_FIRST_MS * 2 ** Math.max(0, Math.min(8, deliveryCount - 1)));
}
const HAND_BACK_FIRST_MS = 10;
const HAND_BACK_MAX_MS = 1000;
/** A hand-back while the stream's lease is held by a replica that stopped renewing it (wait for it to expire). */
export const HAND_BACK_WHILE_EXPIRING_MS = HAND_BACK_MAX_MS;
/** A free stream is placed on a view of the cluster at most this old (read again otherwise). */
const FRESH_VIEW_MS = 250;
/** A free stream nobody took after this many deliveries per live replica is taken by whoever gets it. */
const TAKE_ANY_AFTER_PER_REPLICA = 3;

export type Admission = { route: true } | { route: false; delayMs: number; reason: 'owned-elsewhere' | 'expiring' | 'not-chosen' | 'releasing' | 'unavailable' };

export type LeaseEvent = 'acquired' | 'released' | 'lost';

export interface OwnershipHooks {
  onLease?(event: LeaseEvent, streamId: string): void;
  onRenewal?(result: 'renewed' | 'lost' | 'failed', count: number): void;
  onFenced?(streamId: string): void;
  onView?(owned: number, replicas: number): void;
}

export interface OwnershipOptions {
  replicaId: string;
  leaseTtlMs: number;
  leases: Pick<LeaseTable, 'acquire' | 'renew' | 'release' | 'resetOwner' | 'forgetDeparted' | 'heartbeat' | 'leave' | 'view'>;
  logger: Logger;
  /** Stop routing the stream and wind its actor down (the supervisor's release); `released()` follows. */
  giveUp(streamId: string): void;
  hooks?: OwnershipHooks;
  /** Monotonic milliseconds (tests pass their own). */
  now?: () => number;
  /** No renewal timer: the caller drives tick() (tests pausing a replica). */
  manualTicks?: boolean;
}

interface Held {
  token: number;
  /** Handing over: the actor finishes its chunk, then the lease is released. */
  releasing: boolean;
}

export class StreamOwnership implements WriteFence {
  readonly replicaId: string;
  private readonly held = new Map<string, Held>();
  private view: ClusterView = { replicas: [], leases: [] };
  private viewReadAt = Number.NEGATIVE_INFINITY;
  private lastRenewedAt: number;
  private timer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private stopped = false;
  private readonly now: () => number;
  private readonly hooks: OwnershipHooks;
  private readonly logger: Logger;

  constructor(private readonly options: OwnershipOptions) {
    this.replicaId = options.replicaId;
    this.now = options.now ?? (() => performance.now());
    this.hooks = options.hooks ?? {};
    this.logger = options.logger.child({ component: 'ownership', replica: options.replicaId });
    this.lastRenewedAt = this.now();
  }

  get renewIntervalMs(): number {
    return Math.max(100, Math.floor(this.options.leaseTtlMs / 3));
  }

  /** Joins the cluster: a predecessor's leases under our name are fenced off, then the first tick. */
  async start(): Promise<void> {
    await this.options.leases.forgetDeparted();
    const reset = await this.options.leases.resetOwner(this.replicaId);
    if (reset > 0) this.logger.warn({ leases: reset }, 'leases left by an earlier process under this replica id were expired');
    await this.tick();
    if (this.options.manualTicks !== true) {
      this.timer = setInterval(() => void this.tick(), this.renewIntervalMs);
      this.timer.unref();
    }
    this.logger.info({ lease_ttl_ms: this.options.leaseTtlMs, replicas: this.view.replicas }, 'stream ownership on');
  }

  tokenOf(streamId: string): number | null {
    return this.held.get(streamId)?.token ?? null;
  }

  get owned(): number {
    return this.held.size;
  }

  /** A registry write was refused: another replica took the stream. */
  onFenced(streamId: string, error: PaddockError): void {
    this.hooks.onFenced?.(streamId);
    this.logger.warn({ stream_id: streamId, err: error.message }, 'write fenced: another replica owns the stream now');
    this.lose(streamId);
  }

  /** Whether this replica processes the delivery; otherwise it is handed back for another replica. */
  async admit(delivery: ChunkDelivery): Promise<Admission> {
    const { streamId } = delivery.event;
    if (this.stopped) return { route: false, delayMs: 0, reason: 'releasing' };
    const held = this.held.get(streamId);
    if (held !== undefined) return held.releasing ? { route: false, delayMs: handBackDelayMs(delivery.deliveryCount), reason: 'releasing' } : { route: true };
    let lease = this.leaseElsewhere(streamId);
    if (lease === undefined && this.now() - this.viewReadAt > FRESH_VIEW_MS) {
      // Deciding where a free stream goes on the others' current loads (not the last round's)
      // keeps a burst of new streams from piling onto one replica and being handed over again.
      await this.readView().catch((error: unknown) => this.logger.warn({ err: errorMessage(error) }, 'could not read the cluster'));
      lease = this.leaseElsewhere(streamId);
    }
    if (lease !== undefined) {
      const ownerAlive = this.view.replicas.includes(lease.owner);
      return ownerAlive
        ? { route: false, delayMs: handBackDelayMs(delivery.deliveryCount), reason: 'owned-elsewhere' }
        : { route: false, delayMs: HAND_BACK_WHILE_EXPIRING_MS, reason: 'expiring' };
    }
    const replicas = Math.max(1, this.view.replicas.length);
    const unclaimedTooLong = delivery.deliveryCount > TAKE_ANY_AFTER_PER_REPLICA * replicas;
    if (!unclaimedTooLong && chosenOwner(streamId, this.localView()) !== this.replicaId) {
      return { route: false, delayMs: handBackDelayMs(delivery.deliveryCount), reason: 'not-chosen' };
    }
    let token: number | null;
    try {
      token = await this.options.leases.acquire(streamId, this.replicaId, this.options.leaseTtlMs);
    } catch (error) {
      this.logger.warn({ stream_id: streamId, err: errorMessage(error) }, 'could not acquire a stream lease');
      return { route: false, delayMs: HAND_BACK_WHILE_EXPIRING_MS, reason: 'unavailable' };
    }
    if (token === null) return { route: false, delayMs: handBackDelayMs(delivery.deliveryCount), reason: 'owned-elsewhere' };
    if (this.stopped) {
      await this.options.leases.release(streamId, this.replicaId, token).catch(() => {});
      return { route: false, delayMs: 0, reason: 'releasing' };
    }
    this.held.set(streamId, { token, releasing: false });
    this.hooks.onLease?.('acquired', streamId);
    this.logger.info({ stream_id: streamId, fencing_token: token }, 'stream lease acquired');
    return { route: true };
  }

  /**
   * The supervisor gave the stream up (hand-over done, actor idle, lease lost): release the lease
   * now so the next owner need not wait for it to expire.
   */
  async released(streamId: string): Promise<void> {
    const held = this.held.get(streamId);
    if (held === undefined) return;
    this.held.delete(streamId);
    this.hooks.onLease?.('released', streamId);
    try {
      await this.options.leases.release(streamId, this.replicaId, held.token);
      this.logger.info({ stream_id: streamId, fencing_token: held.token }, 'stream lease released');
    } catch (error) {
      this.logger.warn({ stream_id: streamId, err: errorMessage(error) }, 'could not release a stream lease; it expires by itself');
    }
  }

  /** One round: heartbeat, renew, read the cluster, hand over what is beyond our share. Never overlaps itself. */
  tick(): Promise<void> {
    if (this.ticking !== null) return this.ticking;
    this.ticking = this.runTick().finally(() => {
      this.ticking = null;
    });
    return this.ticking;
  }

  /** Leaves the cluster after the supervisor drained: every lease released, the replica row gone. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    await this.ticking;
    const held = [...this.held.entries()];
    this.held.clear();
    await Promise.all(
      held.map(([streamId, lease]) => this.options.leases.release(streamId, this.replicaId, lease.token).catch((error: unknown) => {
        this.logger.warn({ stream_id: streamId, err: errorMessage(error) }, 'could not release a stream lease; it expires by itself');
      })),
    );
    await this.options.leases.leave(this.replicaId).catch(() => {});
    this.logger.info({ released: held.length }, 'left the cluster');
  }

  private async runTick(): Promise<void> {
    if (this.stopped) return;
    const started = this.now();
    try {
      await this.options.leases.heartbeat(this.replicaId, this.options.leaseTtlMs);
      const holding = [...this.held.entries()].map(([streamId, lease]) => ({ streamId, token: lease.token }));
      const renewed = await this.options.leases.renew(this.replicaId, holding, this.options.leaseTtlMs);
      this.lastRenewedAt = started;
      const lost = holding.filter((lease) => !renewed.has(lease.streamId) && this.held.get(lease.streamId)?.token === lease.token);
      this.hooks.onRenewal?.('renewed', renewed.size);
      if (lost.length > 0) this.hooks.onRenewal?.('lost', lost.length);
      for (const lease of lost) {
        this.logger.warn({ stream_id: lease.streamId, fencing_token: lease.token }, 'stream lease lost: another replica took it over');
        this.lose(lease.streamId);
      }
      await this.readView();
      this.handOverExcess();
      this.hooks.onView?.(this.held.size, this.view.replicas.length);
    } catch (error) {
      this.hooks.onRenewal?.('failed', 1);
      this.logger.warn({ err: errorMessage(error), held: this.held.size }, 'stream leases could not be renewed');
      // Past the TTL our leases may be someone else's: stop working on them (writes would be fenced anyway).
      if (this.now() - this.lastRenewedAt >= this.options.leaseTtlMs) {
        for (const streamId of [...this.held.keys()]) this.lose(streamId);
      }
    }
  }

  private handOverExcess(): void {
    for (const streamId of streamsToHandOver(this.localView())) {
      const held = this.held.get(streamId)!;
      if (held.releasing) continue;
      held.releasing = true;
      this.logger.info({ stream_id: streamId, replicas: this.view.replicas.length, owned: this.held.size }, 'handing the stream over to rebalance');
      this.options.giveUp(streamId);
    }
  }

  /** The lease is gone (taken by another or past its TTL): forget it and wind the stream down. */
  private lose(streamId: string): void {
    if (!this.held.delete(streamId)) return;
    this.hooks.onLease?.('lost', streamId);
    this.options.giveUp(streamId);
  }

  private async readView(): Promise<void> {
    const readAt = this.now();
    this.view = await this.options.leases.view();
    this.viewReadAt = readAt;
  }

  private leaseElsewhere(streamId: string): ClusterView['leases'][number] | undefined {
    return this.view.leases.find((entry) => entry.streamId === streamId && entry.owner !== this.replicaId);
  }

  private localView(): LocalView {
    return { me: this.replicaId, view: this.view, mine: new Set(this.held.keys()) };
  }
}
