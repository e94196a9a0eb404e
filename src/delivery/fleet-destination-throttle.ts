import { setTimeout as sleep } from 'node:timers/promises';
import type { ShapingLimits } from '../config/schema.js';
import { QueueingThrottle, type DestinationThrottle } from './destination-throttle.js';
import { MessagePace } from './message-pace.js';

/** How soon a throttle whose destination has every slot leased (by other nodes) asks again. */
const FULL_RETRY_MS = 250;

/** What a fleet throttle asks of the store the fleet shares (RedisShaping). Nothing here throws. */
export interface LeaseStore {
  /** False while Redis cannot be asked: each node then keeps to its share of every limit. */
  readonly reachable: boolean;
  /** Nodes last seen alive, at least 1: a node's share of a limit is the limit divided by it. */
  readonly nodes: number;
  newLeaseId(): string;
  takeLease(key: string, maxConnections: number, id: string): Promise<'taken' | 'full' | 'unreachable'>;
  /** Gives a lease back; if that fails it lapses by itself. */
  releaseLease(key: string, id: string): void;
  /** Reserves the next start at `perSecond`: ms to wait, or null when Redis cannot be asked. */
  reservePace(key: string, perSecond: number): Promise<number | null>;
  /** Follows the throttles holding leases (to renew them) or waiting for one (to tell them when Redis comes and goes). */
  track(throttle: FleetDestinationThrottle): void;
}

/**
 * A destination's limits held by every node together. Each connection holds a lease, a member of a sorted set in
 * Redis scored by its expiry, so the fleet never has more than maxConnections open; the store renews the node's
 * leases, and those of a node that died lapse after the lease time. A lease is asked for when a queue finds no slot
 * and handed straight to a waiting queue when its connection closes, so it costs Redis calls per connection, not per
 * message. The pace costs one call per message: a reservation of the next start, fleet-wide.
 *
 * While Redis is unreachable, delivery goes on with this node's share of the last known fleet: maxConnections and
 * messagesPerSecond divided by the nodes last seen alive (at least one connection), counted here. Connections opened
 * then stay unleased until they close.
 */
export class FleetDestinationThrottle extends QueueingThrottle implements DestinationThrottle {
  /** Leases of the open connections. */
  private held: string[] = [];
  /** Leases taken or freed for a waiting queue, for the moment it takes them. */
  private readonly spare: string[] = [];
  /** Connections opened without a lease while Redis was unreachable. */
  private unleased = 0;
  /** A lease request, or the wait before asking again, is under way. */
  private asking = false;
  private readonly ownPace: MessagePace;

  constructor(
    private readonly store: LeaseStore,
    readonly key: string,
    readonly limits: ShapingLimits,
    now: () => number = Date.now,
  ) {
    super();
    this.ownPace = new MessagePace(now);
  }

  /** Leases to renew. */
  get leases(): readonly string[] {
    return this.held;
  }

  tryOpen(): boolean {
    const lease = this.spare.pop();
    if (lease !== undefined) {
      this.held.push(lease);
      this.store.track(this);
      return true;
    }
    if (this.store.reachable || this.held.length + this.unleased >= this.ownShare(this.limits.maxConnections)) return false;
    this.unleased++;
    return true;
  }

  /** Also asks the fleet for a lease, unless Redis is unreachable (then a connection of this node closing frees a slot). */
  override whenFree(retry: () => void): void {
    super.whenFree(retry);
    this.store.track(this);
    void this.askForLease();
  }

  closed(): void {
    if (this.unleased > 0) {
      this.unleased--;
      this.waiting.shift()?.();
    } else {
      const lease = this.held.pop();
      if (lease !== undefined) this.offer(lease);
    }
    this.store.track(this);
  }

  async pace(): Promise<void> {
    const perSecond = this.limits.messagesPerSecond;
    if (perSecond <= 0) return;
    const delayMs = this.store.reachable ? await this.store.reservePace(this.key, perSecond) : null;
    if (delayMs === null) return this.ownPace.wait(perSecond / this.store.nodes);
    if (delayMs > 0) await sleep(delayMs);
  }

  get idle(): boolean {
    return this.held.length + this.unleased === 0 && this.waiting.length === 0 && this.sharers.size === 0;
  }

  /** Leases the store could not renew (they lapsed while Redis was away, and other nodes took the slots). */
  lost(leases: readonly string[]): void {
    const kept = this.held.filter((lease) => !leases.includes(lease));
    // Only connections still open count: one may have closed (and given its lease back) during the renewal.
    this.unleased += this.held.length - kept.length;
    this.held = kept;
  }

  /** Redis became reachable (the waiting queues ask for leases) or unreachable (they try again under this node's share). */
  reachabilityChanged(): void {
    if (this.store.reachable) void this.askForLease();
    else for (const retry of this.waiting.splice(0)) retry();
  }

  private async askForLease(): Promise<void> {
    if (this.asking || this.waiting.length === 0 || !this.store.reachable) return;
    this.asking = true;
    const id = this.store.newLeaseId();
    const outcome = await this.store.takeLease(this.key, this.limits.maxConnections, id);
    if (outcome === 'full') {
      setTimeout(() => {
        this.asking = false;
        void this.askForLease();
      }, FULL_RETRY_MS).unref();
      return;
    }
    this.asking = false;
    if (outcome === 'taken') this.offer(id);
  }

  /** Hands a lease to the waiting queues in turn; one none of them takes is given back. */
  private offer(lease: string): void {
    this.spare.push(lease);
    while (this.spare.length > 0 && this.waiting.length > 0) this.waiting.shift()!();
    for (const unused of this.spare.splice(0)) this.store.releaseLease(this.key, unused);
    if (this.waiting.length > 0) void this.askForLease();
  }

  private ownShare(limit: number): number {
    return Math.max(1, Math.floor(limit / this.store.nodes));
  }
}
