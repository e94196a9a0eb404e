import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { connectRedis } from '../cluster/redis-connection.js';
import type { GatewayConfig, ShapingLimits } from '../config/schema.js';
import { untilConnectAttemptEnds } from '../ratelimit/redis-ready.js';
import { FleetDestinationThrottle, type LeaseStore } from './fleet-destination-throttle.js';
import { FleetWarmupCounts } from './fleet-warmup-counts.js';
import { HEARTBEAT, RENEW_LEASES, RESERVE_PACE, SHAPING_SCRIPTS, TAKE_LEASE } from './redis-shaping-scripts.js';

/** While Redis is unreachable it is tried this often (at most), so that the fleet-wide limits return soon after it does. */
const PROBE_MS = 1000;
/** How long start() waits for the first connection before running on this node's share. */
const CONNECT_WAIT_MS = 2000;

export interface RedisShapingOptions {
  /** cluster.keyPrefix; the keys are `<prefix>shaping:…` and `<prefix>warmup:…`. */
  keyPrefix: string;
  /** cluster.leaseSeconds in ms: connection slots and the node's presence lapse this long after it stops renewing them. */
  leaseMs: number;
  log: Logger;
  /** Names this node in lease ids and the presence set; defaults to host:pid:random. */
  nodeId?: string;
  /** Disconnect `redis` on close(); otherwise its owner does. */
  ownsConnection?: boolean;
}

/** In cluster mode, the fleet-wide shaping of a node that delivers; undefined for a node alone or one that does not deliver. */
export function openFleetShaping(config: Pick<GatewayConfig, 'cluster' | 'delivery'>, log: Logger): RedisShaping | undefined {
  const { redisUrl, keyPrefix, leaseSeconds } = config.cluster;
  if (redisUrl === null || !config.delivery.enabled) return undefined;
  return new RedisShaping(connectRedis(redisUrl, log, 'relaygate-shaping'), { keyPrefix, leaseMs: leaseSeconds * 1000, log, ownsConnection: true });
}

/**
 * Destination shaping held by the whole fleet (cluster mode): connection leases and message paces per destination
 * (FleetDestinationThrottle), and warm-up counts per source address and day (FleetWarmupCounts), all in Redis.
 *
 * Every third of the lease time the node renews, in one pipeline (one round trip), its presence in the set of live
 * nodes and every lease it holds; the count of live nodes is what each node divides the limits by while Redis is
 * unreachable. Any failed call marks Redis unreachable: from then on nothing waits for it, the throttles and warm-up
 * counts use this node's share, and it is probed every second until it answers again.
 */
export class RedisShaping implements LeaseStore {
  readonly warmup: FleetWarmupCounts;
  readonly #redis: Redis;
  readonly #options: RedisShapingOptions;
  readonly #nodeId: string;
  readonly #log: Logger;
  /** Throttles holding leases or waiting for one. */
  readonly #tracked = new Set<FleetDestinationThrottle>();
  #reachable = true;
  #nodes = 1;
  #leaseCount = 0;
  #timer: NodeJS.Timeout | null = null;
  /** A renewal is under way: another would add the warm-up counts it replays a second time. */
  #renewing = false;
  #closed = false;

  constructor(redis: Redis, options: RedisShapingOptions) {
    this.#redis = redis;
    this.#options = options;
    this.#nodeId = options.nodeId ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    this.#log = options.log.child({ component: 'fleet-shaping' });
    for (const script of SHAPING_SCRIPTS) script.register(redis);
    this.warmup = new FleetWarmupCounts(redis, options.keyPrefix, this);
  }

  /** Announces the node and starts renewing; never fails (without Redis the node starts on its share). */
  async start(): Promise<void> {
    await untilConnectAttemptEnds(this.#redis, CONNECT_WAIT_MS);
    await this.#renew();
  }

  get reachable(): boolean {
    return this.#reachable;
  }

  get nodes(): number {
    return this.#nodes;
  }

  throttle(key: string, limits: ShapingLimits): FleetDestinationThrottle {
    return new FleetDestinationThrottle(this, key, limits);
  }

  newLeaseId(): string {
    return `${this.#nodeId}:${++this.#leaseCount}`;
  }

  async takeLease(key: string, maxConnections: number, id: string): Promise<'taken' | 'full' | 'unreachable'> {
    const taken = await this.call(() => TAKE_LEASE.run(this.#redis, [this.#leasesKey(key)], [maxConnections, this.#options.leaseMs, id]));
    if (taken === null) return 'unreachable';
    return taken === 1 ? 'taken' : 'full';
  }

  releaseLease(key: string, id: string): void {
    this.#redis.zrem(this.#leasesKey(key), id).catch(() => undefined);
  }

  async reservePace(key: string, perSecond: number): Promise<number | null> {
    return (await this.call(() => RESERVE_PACE.run(this.#redis, [`${this.#options.keyPrefix}shaping:pace:${key}`], [1000 / perSecond]))) as number | null;
  }

  track(throttle: FleetDestinationThrottle): void {
    if (throttle.leases.length > 0 || throttle.contended) this.#tracked.add(throttle);
    else this.#tracked.delete(throttle);
  }

  /** Runs a Redis call; on failure marks Redis unreachable and returns null. */
  async call<T>(run: () => Promise<T>): Promise<T | null> {
    try {
      return await run();
    } catch (error) {
      this.#unreachable(error);
      return null;
    }
  }

  /** Gives back this node's leases and presence, so the other nodes need not wait for them to lapse. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#reachable) {
      const batch = this.#redis.pipeline().zrem(this.#nodesKey(), this.#nodeId);
      for (const throttle of this.#tracked) for (const lease of throttle.leases) batch.zrem(this.#leasesKey(throttle.key), lease);
      await batch.exec().catch(() => undefined);
    }
    if (this.#options.ownsConnection) this.#redis.disconnect();
  }

  /** One round trip: this node's presence, its leases, and the warm-up counts it took while Redis was away. */
  async #renew(): Promise<void> {
    if (this.#renewing) return;
    this.#renewing = true;
    try {
      const { leaseMs } = this.#options;
      const batch = this.#redis.pipeline();
      HEARTBEAT.queue(batch, [this.#nodesKey()], [leaseMs, this.#nodeId]);
      const renewed = [...this.#tracked].filter((throttle) => throttle.leases.length > 0);
      for (const throttle of renewed) RENEW_LEASES.queue(batch, [this.#leasesKey(throttle.key)], [throttle.limits.maxConnections, leaseMs, ...throttle.leases]);
      const replayed = this.warmup.queueUnsynced(batch);
      const results = await this.call(() => batch.exec());
      const failed = results?.find(([error]) => error)?.[0];
      if (results && !failed) {
        this.#nodes = Math.max(1, results[0]![1] as number);
        renewed.forEach((throttle, index) => throttle.lost(results[index + 1]![1] as string[]));
        replayed();
        this.#reachableAgain();
      } else if (failed) {
        this.#unreachable(failed);
      }
    } finally {
      this.#renewing = false;
      this.#schedule();
    }
  }

  /** (Re)arms the renewal: every third of the lease time, or sooner while Redis is being probed. */
  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#closed || this.#renewing) return;
    const interval = this.#reachable ? this.#options.leaseMs / 3 : Math.min(PROBE_MS, this.#options.leaseMs / 3);
    this.#timer = setTimeout(() => void this.#renew(), interval);
    this.#timer.unref();
  }

  #unreachable(error: unknown): void {
    if (!this.#reachable) return;
    this.#reachable = false;
    this.#log.warn(
      { err: error, nodes: this.#nodes },
      'Redis unreachable: destination limits and warm-up counts fall back to this node’s share (the limit divided by the nodes last seen)',
    );
    for (const throttle of [...this.#tracked]) throttle.reachabilityChanged();
    this.#schedule();
  }

  #reachableAgain(): void {
    if (this.#reachable) return;
    this.#reachable = true;
    this.#log.info({ nodes: this.#nodes }, 'Redis reachable again: destination limits hold fleet-wide');
    for (const throttle of [...this.#tracked]) throttle.reachabilityChanged();
  }

  #leasesKey(key: string): string {
    return `${this.#options.keyPrefix}shaping:leases:${key}`;
  }

  #nodesKey(): string {
    return `${this.#options.keyPrefix}shaping:nodes`;
  }
}
