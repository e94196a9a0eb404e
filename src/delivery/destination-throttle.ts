import { setTimeout as sleep } from 'node:timers/promises';
import type { ShapingLimits } from '../config/schema.js';
import { gcraDecide } from '../ratelimit/gcra.js';

/**
 * The limits one source address has towards one destination group (an MX site or a shaping rule), shared by the
 * ready queues of that group: connection slots, and a message pace at messagesPerSecond with no burst, so that no
 * second ever carries more than the limit.
 */
export class DestinationThrottle {
  private open = 0;
  private tat: number | undefined;
  private readonly waiting: Array<() => void> = [];
  private readonly sharers = new Set<{ dropIdle(): void }>();

  constructor(
    readonly limits: ShapingLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes a connection slot if one is free. */
  tryOpen(): boolean {
    if (this.open >= this.limits.maxConnections) return false;
    this.open++;
    return true;
  }

  /** Gives a slot back and lets the longest-waiting queue try again. */
  closed(): void {
    this.open--;
    this.waiting.shift()?.();
  }

  /** Calls `retry` once when a slot is freed (a queue that found none); idle connections of the other queues close to free one. */
  whenFree(retry: () => void): void {
    if (!this.waiting.includes(retry)) this.waiting.push(retry);
    for (const sharer of this.sharers) sharer.dropIdle();
  }

  /** True while a queue waits for a slot: an idle connection should close rather than linger. */
  get contended(): boolean {
    return this.waiting.length > 0;
  }

  /** Registers a ready queue using these limits, so it can be asked to give up idle connections. */
  share(queue: { dropIdle(): void }): void {
    this.sharers.add(queue);
  }

  unshare(queue: { dropIdle(): void }): void {
    this.sharers.delete(queue);
  }

  /** Waits until the next message may start. */
  async pace(): Promise<void> {
    const rate = this.limits.messagesPerSecond;
    if (rate === 0) return;
    for (;;) {
      const decision = gcraDecide(this.tat, this.now(), 1000 / rate, 0, 1);
      if (decision.allowed) {
        this.tat = decision.tat;
        return;
      }
      await sleep(decision.retryAfterMs);
    }
  }

  get idle(): boolean {
    return this.open === 0 && this.waiting.length === 0 && this.sharers.size === 0;
  }
}
