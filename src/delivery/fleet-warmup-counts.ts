import type { ChainableCommander, Redis } from 'ioredis';
import type { RedisShaping } from './redis-shaping.js';
import { TAKE_WARMUP, WARMUP_STARTS } from './redis-shaping-scripts.js';
import type { SharedWarmupCounts, WarmupCandidate } from './source-addresses.js';

/** A day's counter outlives the day by one, for nodes whose clocks straddle midnight. */
const COUNTER_LIFETIME_SECONDS = 2 * 86_400;

/**
 * Warm-up counts of the whole fleet: recipients per source address and UTC day (`<prefix>warmup:<day>:<address>`,
 * kept two days) and the day each address began warming up (`<prefix>warmup:started`, set by the first node). A
 * transaction from a warming address costs one round trip; warm addresses cost none.
 *
 * While Redis is unreachable a node takes an address only while its own count for the day is under its share,
 * the day's limit divided by the nodes last seen (rounded up), and adds what it took to the fleet's counters once
 * Redis answers again.
 */
export class FleetWarmupCounts implements SharedWarmupCounts {
  /** Recipients taken on this node's share, by counter, not yet added to the fleet's counters. */
  private readonly unsynced = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly link: Pick<RedisShaping, 'reachable' | 'nodes' | 'call'>,
  ) {}

  async startDays(proposed: ReadonlyMap<string, string>): Promise<Map<string, string>> {
    if (proposed.size === 0) return new Map();
    const days = (await this.link.call(() => WARMUP_STARTS.run(this.redis, [`${this.keyPrefix}warmup:started`], [...proposed].flat()))) as string[] | null;
    if (days === null) return new Map(proposed);
    return new Map([...proposed.keys()].map((address, index) => [address, days[index]!]));
  }

  async takeFirst(candidates: readonly WarmupCandidate[], day: string, recipients: number, ownCount: (address: string) => number): Promise<string | null> {
    if (candidates.length === 0) return null;
    if (this.link.reachable) {
      const counters = candidates.map((candidate) => this.counter(day, candidate.address));
      const limits = candidates.map((candidate) => candidate.limit);
      const position = (await this.link.call(() => TAKE_WARMUP.run(this.redis, counters, [recipients, COUNTER_LIFETIME_SECONDS, ...limits]))) as number | null;
      if (position !== null) return position === 0 ? null : candidates[position - 1]!.address;
    }
    const chosen = candidates.find((candidate) => ownCount(candidate.address) < Math.ceil(candidate.limit / this.link.nodes));
    if (!chosen) return null;
    const counter = this.counter(day, chosen.address);
    this.unsynced.set(counter, (this.unsynced.get(counter) ?? 0) + recipients);
    return chosen.address;
  }

  /** Adds the counts taken while Redis was away to a pipeline; returns what to call once it has run without error. */
  queueUnsynced(batch: ChainableCommander): () => void {
    const counts = [...this.unsynced];
    for (const [counter, recipients] of counts) batch.incrby(counter, recipients).expire(counter, COUNTER_LIFETIME_SECONDS);
    return () => {
      for (const [counter, recipients] of counts) {
        const left = (this.unsynced.get(counter) ?? 0) - recipients;
        if (left > 0) this.unsynced.set(counter, left);
        else this.unsynced.delete(counter);
      }
    };
  }

  private counter(day: string, address: string): string {
    return `${this.keyPrefix}warmup:${day}:${address}`;
  }
}
