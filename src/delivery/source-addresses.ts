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

/** A warming address and its limit for the day. */
export interface WarmupCandidate {
  address: string;
  limit: number;
}

/** Warm-up counts shared by the nodes of a fleet (FleetWarmupCounts, in Redis); without them each node counts alone. */
export interface SharedWarmupCounts {
  /** The day each address began warming up, as the fleet agreed: the first day a node proposed. */
  startDays(proposed: ReadonlyMap<string, string>): Promise<Map<string, string>>;
  /**
   * Charges `recipients` on `day` to the first candidate still under its limit and returns its address, or null when
   * every one is at its limit. `ownCount` is this node's own count, the fallback while the fleet's cannot be read.
   */
  takeFirst(candidates: readonly WarmupCandidate[], day: string, recipients: number, ownCount: (address: string) => number): Promise<string | null>;
}

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
 * In cluster mode the warming addresses' counts and start days are the fleet's (`shared`); the node still keeps
 * its own counts in queue.db, its fallback while Redis is unreachable.
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
    private readonly shared?: SharedWarmupCounts,
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

  /** Sources whose warm-up counts and start days are the fleet's (`shared`) once the start days are agreed. */
  static async open(config: DeliveryConfig, hostname: string, volumes: SourceVolumeStore, log: Logger, now: number, shared?: SharedWarmupCounts): Promise<SourceAddresses> {
    const sources = new SourceAddresses(config, hostname, volumes, log, now, shared);
    await sources.agreeStartDays();
    return sources;
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

  async choose(poolName: string, previous: string | null, recipients: number, now: number): Promise<SourceChoice> {
    this.rollOver(now);
    const pool = this.usable(this.pools.get(poolName) ?? [], now);
    const sticky = pool.find((source) => source.address === previous);
    if (sticky && this.limit(sticky) === null) return this.take(sticky, recipients);
    const warming = await this.takeWarming(poolName, pool, sticky, recipients);
    if (warming) return this.take(warming, recipients);
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

  /** A warming address with room under today's cap, the previous attempt's first, the others from the pool's turn. */
  private async takeWarming(poolName: string, pool: SourceAddress[], sticky: SourceAddress | undefined, recipients: number): Promise<SourceAddress | undefined> {
    const warming = pool.filter((source) => this.limit(source) !== null);
    const others = warming.filter((source) => source !== sticky);
    const turn = this.nextIndex.get(poolName) ?? 0;
    const shift = others.length > 0 ? turn % others.length : 0;
    const candidates = [...(sticky && warming.includes(sticky) ? [sticky] : []), ...others.slice(shift), ...others.slice(0, shift)];
    let chosen = candidates.find((source) => this.hasRoom(source));
    if (this.shared) {
      const limits = candidates.map((source) => ({ address: source.address, limit: this.limit(source)! }));
      const taken = await this.shared.takeFirst(limits, this.day, recipients, (address) => this.used.get(address) ?? 0);
      chosen = candidates.find((source) => source.address === taken);
    }
    if (chosen && chosen !== sticky) this.nextIndex.set(poolName, turn + 1);
    return chosen;
  }

  private async agreeStartDays(): Promise<void> {
    if (!this.shared) return;
    const configured = new Set(Object.values(this.config.pools).flatMap((pool) => pool.addresses.filter((address) => address.warmup?.startedOn).map((address) => address.address)));
    const proposed = [...this.pools.values()].flat().filter((source) => source.warmupStartedOn !== null && !configured.has(source.address));
    const agreed = await this.shared.startDays(new Map(proposed.map((source) => [source.address, source.warmupStartedOn!])));
    for (const source of proposed) source.warmupStartedOn = agreed.get(source.address) ?? source.warmupStartedOn;
  }

  private usable(pool: SourceAddress[], now: number): SourceAddress[] {
    return pool.filter((source) => (this.unusableUntil.get(source.address) ?? 0) <= now);
  }

  private limit(source: SourceAddress): number | null {
    if (source.warmupStartedOn === null) return null;
    return warmupDailyLimit(daysBetween(source.warmupStartedOn, this.day), this.config.warmup);
  }

  /** A transaction may go while the address is under its cap (this node's count); it may end slightly over it, by that transaction's size. */
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
