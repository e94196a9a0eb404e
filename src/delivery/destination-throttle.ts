import type { ShapingLimits } from '../config/schema.js';
import { MessagePace } from './message-pace.js';

/** A ready queue as its throttle sees it: one that can be asked to give up idle connections. */
export interface IdleConnections {
  dropIdle(): void;
}

/**
 * The limits one source address has towards one destination group (an MX site or a shaping rule), shared by the
 * ready queues of that group: connection slots, and a message pace at messagesPerSecond with no burst, so that no
 * second ever carries more than the limit. LocalDestinationThrottle keeps them for this node; in cluster mode
 * FleetDestinationThrottle keeps them for every node of the fleet together.
 */
export interface DestinationThrottle {
  readonly limits: ShapingLimits;
  /** Takes a connection slot if one is free at once. */
  tryOpen(): boolean;
  /** Gives back the slot of a connection that closed. */
  closed(): void;
  /** Calls `retry` once when a slot may be free (a queue that found none); idle connections of the other queues close to free one. */
  whenFree(retry: () => void): void;
  /** Withdraws a `whenFree` the queue no longer needs (nothing waits in it any more), so that it is not taken for contention. */
  stopWaiting(retry: () => void): void;
  /** True while a queue waits for a slot: an idle connection should close rather than linger. */
  readonly contended: boolean;
  /** Registers a ready queue using these limits, so it can be asked to give up idle connections. */
  share(queue: IdleConnections): void;
  unshare(queue: IdleConnections): void;
  /** Waits until the next message may start. */
  pace(): Promise<void>;
  /** Nothing open, waiting or sharing: the throttle may be forgotten. */
  readonly idle: boolean;
}

/** What every throttle keeps of its ready queues: those waiting for a slot, and those sharing the limits. */
export abstract class QueueingThrottle {
  protected readonly waiting: Array<() => void> = [];
  protected readonly sharers = new Set<IdleConnections>();

  whenFree(retry: () => void): void {
    if (!this.waiting.includes(retry)) this.waiting.push(retry);
    for (const sharer of this.sharers) sharer.dropIdle();
  }

  stopWaiting(retry: () => void): void {
    const index = this.waiting.indexOf(retry);
    if (index >= 0) this.waiting.splice(index, 1);
  }

  get contended(): boolean {
    return this.waiting.length > 0;
  }

  share(queue: IdleConnections): void {
    this.sharers.add(queue);
  }

  unshare(queue: IdleConnections): void {
    this.sharers.delete(queue);
  }
}

/** The limits kept in this process, for a node that runs alone (no cluster.redisUrl). */
export class LocalDestinationThrottle extends QueueingThrottle implements DestinationThrottle {
  private open = 0;
  private readonly pacer: MessagePace;

  constructor(
    readonly limits: ShapingLimits,
    now: () => number = Date.now,
  ) {
    super();
    this.pacer = new MessagePace(now);
  }

  tryOpen(): boolean {
    if (this.open >= this.limits.maxConnections) return false;
    this.open++;
    return true;
  }

  /** Lets the longest-waiting queue try again. */
  closed(): void {
    this.open--;
    this.waiting.shift()?.();
  }

  pace(): Promise<void> {
    return this.pacer.wait(this.limits.messagesPerSecond);
  }

  get idle(): boolean {
    return this.open === 0 && this.waiting.length === 0 && this.sharers.size === 0;
  }
}
