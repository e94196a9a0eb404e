import type { Logger } from 'pino';
import type { DeliveryConfig } from '../config/schema.js';
import type { SourceVolumeStore } from '../queue/queue-store.js';
import { daysBetween, nextUtcDay, utcDay, warmupDailyLimit } from './warmup-schedule.js';

/** A local address mail leaves from; '' lets the system choose (no pools configured). */
export interface SourceAddress {
  address: string;
  ehloName: string;
  pool: string;
  /** Day its warm-up started (YYYY-MM-DD), null when it is warm. */
  warmupStartedOn: string | null;
}

export type SourceChoice = { source: SourceAddress } | { waitUntil: number };

/** How long an address that could not be bound is left out before it is tried again. */
const UNUSABLE_MS = 5 * 60_000;

/**
 * Picks the source address of each transaction from its IP pool. Rules, in order:
 * 1. the address of the message's previous attempt, when it may still send (greylisting lets a retry through only
 *    from the same address);
 * 2. a warming address with room left under today's cap, so warm-up proceeds at its planned pace;
 * 3. a warm address of the pool, round robin;
 * 4. the excess of a pool without warm addresses goes to the default pool's warm addresses (SES sends it from
 *    its shared pool); with none there either, the delivery waits for the next UTC day.
 * Addresses that cannot be bound (not configured on this host) are left out for a while.
 */
export class SourceAddresses {
  private readonly pools = new Map<string, SourceAddress[]>();
  private readonly unusableUntil = new Map<string, number>();
  private readonly nextIndex = new Map<string, number>();
  private readonly warnedPools = new Set<string>();
  private day: string;
  private used: Map<string, number>;
  /** Counts not yet persisted, by day and address. */
  private pendingVolumes = new Map<string, { address: string; day: string; recipients: number }>();

  constructor(
    private readonly config: DeliveryConfig,
    hostname: string,
    volumes: SourceVolumeStore,
    private readonly log: Logger,
    now: number,
  ) {
    this.day = utcDay(now);
    const starts = volumes.warmupStarts();
    for (const [name, pool] of Object.entries(config.pools)) {
      this.pools.set(
        name,
        pool.addresses.map(({ address, ehloName, warmup }) => {
          let warmupStartedOn: string | null = null;
          if (warmup) {
            warmupStartedOn = warmup.startedOn ?? starts.get(address) ?? this.day;
            if (!warmup.startedOn && !starts.has(address)) volumes.startWarmup(address, this.day);
          }
          return { address, ehloName, pool: name, warmupStartedOn };
        }),
      );
    }
    if (this.pools.size === 0) this.pools.set(config.defaultPool, [{ address: '', ehloName: hostname, pool: config.defaultPool, warmupStartedOn: null }]);
    volumes.pruneBefore(this.day);
    this.used = volumes.recipientsOn(this.day);
  }

  /** The configured pool of that name; an unknown name (a configuration set naming a pool this node lacks) falls back to the default pool. */
  poolName(name: string | undefined): string {
    if (name === undefined || this.pools.has(name)) return name ?? this.config.defaultPool;
    if (!this.warnedPools.has(name)) {
      this.warnedPools.add(name);
      this.log.warn({ pool: name, defaultPool: this.config.defaultPool }, 'configuration set names an IP pool that is not configured; using the default pool');
    }
    return this.config.defaultPool;
  }

  choose(poolName: string, previous: string | null, recipients: number, now: number): SourceChoice {
    this.rollOver(now);
    const pool = this.usable(this.pools.get(poolName) ?? [], now);
    const sticky = pool.find((source) => source.address === previous);
    if (sticky && this.hasRoom(sticky)) return this.take(sticky, recipients);
    const warming = pool.filter((source) => this.limit(source) !== null && this.hasRoom(source));
    if (warming.length > 0) return this.take(this.roundRobin(poolName, warming), recipients);
    const warm = pool.filter((source) => this.limit(source) === null);
    if (warm.length > 0) return this.take(this.roundRobin(poolName, warm), recipients);
    if (poolName !== this.config.defaultPool) {
      const shared = this.usable(this.pools.get(this.config.defaultPool) ?? [], now).filter((source) => this.limit(source) === null);
      if (shared.length > 0) return this.take(this.roundRobin(this.config.defaultPool, shared), recipients);
    }
    const everyAddress = this.pools.get(poolName) ?? [];
    if (pool.length === 0 && everyAddress.length > 0) {
      return { waitUntil: Math.min(...everyAddress.map((source) => this.unusableUntil.get(source.address) ?? now)) };
    }
    return { waitUntil: nextUtcDay(now) };
  }

  /** Leaves out an address that could not be bound. */
  markUnusable(address: string, now: number): void {
    this.unusableUntil.set(address, now + UNUSABLE_MS);
  }

  /** Recipients counted since the last call, to be persisted. */
  takeVolumes(): Array<{ address: string; day: string; recipients: number }> {
    const volumes = [...this.pendingVolumes.values()];
    this.pendingVolumes = new Map();
    return volumes;
  }

  private usable(pool: SourceAddress[], now: number): SourceAddress[] {
    return pool.filter((source) => (this.unusableUntil.get(source.address) ?? 0) <= now);
  }

  private limit(source: SourceAddress): number | null {
    if (source.warmupStartedOn === null) return null;
    return warmupDailyLimit(daysBetween(source.warmupStartedOn, this.day), this.config.warmup);
  }

  /** A transaction may go while the address is under its cap; it may end slightly over it, by that transaction's size. */
  private hasRoom(source: SourceAddress): boolean {
    const limit = this.limit(source);
    return limit === null || (this.used.get(source.address) ?? 0) < limit;
  }

  private take(source: SourceAddress, recipients: number): SourceChoice {
    if (source.address !== '') {
      this.used.set(source.address, (this.used.get(source.address) ?? 0) + recipients);
      const key = `${this.day} ${source.address}`;
      const pending = this.pendingVolumes.get(key);
      if (pending) pending.recipients += recipients;
      else this.pendingVolumes.set(key, { address: source.address, day: this.day, recipients });
    }
    return { source };
  }

  private roundRobin(key: string, sources: SourceAddress[]): SourceAddress {
    const index = this.nextIndex.get(key) ?? 0;
    this.nextIndex.set(key, index + 1);
    return sources[index % sources.length]!;
  }

  private rollOver(now: number): void {
    const today = utcDay(now);
    if (today === this.day) return;
    this.day = today;
    this.used = new Map();
  }
}
