import type { Redis } from 'ioredis';
import { fullCounts, type CountsUpdate, type SendCounts, type SendStatisticsStore } from './send-statistics.js';

/** GetSendStatistics covers two weeks; a day more keeps the oldest point whole (as the queue database's maintenance). */
const RETENTION_MS = 15 * 86_400_000;

const COUNTERS = Object.keys(fullCounts()) as Array<keyof SendCounts>;

/** Which node's event log a cursor is for: the node, and the log's database (a new one starts from zero). */
export interface StatisticsCursorScope {
  nodeId: string;
  logId: string;
}

/**
 * The fleet's sending statistics in Redis (cluster mode): each node counts the events of its own log, and the sums are
 * what every node's GetSendStatistics, `relaygate stats` and reputation read.
 *
 * Keys (after the cluster's key prefix): `stats:<account>:<bucket ms>`, a hash per 15-minute bucket with one field per
 * counter and configuration set (`<counter>:<set>`, the set empty for mail sent without one), expiring 15 days after
 * the bucket; `stats:<account>:buckets`, a sorted set of the account's buckets, so reads touch only buckets with
 * activity; `node:<node>:counted:<log id>:<consumer>`, how far a node's event log is counted. One MULTI adds a batch's
 * counts and moves that cursor, so a batch applied twice (the node's own cursor in queue.db is moved after) counts
 * once: exactly once while Redis keeps what it acknowledged (appendonly, README).
 */
export class RedisSendStatistics implements SendStatisticsStore {
  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    /** Where this node's cursor is kept; reading needs none. */
    private readonly scope: StatisticsCursorScope | null = null,
    private readonly now: () => number = Date.now,
  ) {}

  async apply(updates: readonly CountsUpdate[], consumer: string, seq: number): Promise<void> {
    const now = this.now();
    const multi = this.redis.multi();
    for (const { accountId, configurationSet, bucket, counts } of updates) {
      const key = this.bucketKey(accountId, bucket);
      for (const counter of COUNTERS) {
        const value = counts[counter];
        if (value) multi.hincrby(key, `${counter}:${configurationSet}`, value);
      }
      multi.pexpireat(key, bucket + RETENTION_MS);
      const index = this.indexKey(accountId);
      multi.zadd(index, bucket, String(bucket));
      multi.zremrangebyscore(index, '-inf', `(${now - RETENTION_MS}`);
      multi.pexpire(index, RETENTION_MS);
    }
    multi.set(this.cursorKey(consumer), String(seq), 'PX', RETENTION_MS);
    const results = await multi.exec();
    const failed = results?.find(([error]) => error)?.[0];
    if (!results || failed) throw failed ?? new Error('the statistics transaction was discarded');
  }

  async countedThrough(consumer: string): Promise<number> {
    return Number((await this.redis.get(this.cursorKey(consumer))) ?? 0);
  }

  async dataPoints(accountId: string, since: number): Promise<Array<SendCounts & { bucket: number }>> {
    const buckets = await this.buckets(accountId, since);
    return buckets.flatMap(({ bucket, fields }) => (Object.keys(fields).length > 0 ? [{ bucket, ...sum(fields) }] : []));
  }

  async totals(accountId: string, since: number, configurationSet?: string): Promise<SendCounts> {
    const totals = fullCounts();
    for (const { fields } of await this.buckets(accountId, since)) {
      const counts = sum(fields, configurationSet);
      for (const counter of COUNTERS) totals[counter] += counts[counter];
    }
    return totals;
  }

  /** The account's buckets since `since`, oldest first, with their fields (empty for a bucket expired meanwhile). */
  private async buckets(accountId: string, since: number): Promise<Array<{ bucket: number; fields: Record<string, string> }>> {
    const buckets = (await this.redis.zrangebyscore(this.indexKey(accountId), since, '+inf')).map(Number);
    if (buckets.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const bucket of buckets) pipeline.hgetall(this.bucketKey(accountId, bucket));
    const results = (await pipeline.exec()) ?? [];
    return buckets.map((bucket, index) => {
      const [error, fields] = results[index] ?? [new Error('no reply')];
      if (error) throw error;
      return { bucket, fields: fields as Record<string, string> };
    });
  }

  private bucketKey(accountId: string, bucket: number): string {
    return `${this.keyPrefix}stats:${accountId}:${bucket}`;
  }

  private indexKey(accountId: string): string {
    return `${this.keyPrefix}stats:${accountId}:buckets`;
  }

  private cursorKey(consumer: string): string {
    if (!this.scope) throw new Error('statistics opened for reading have no cursor');
    return `${this.keyPrefix}node:${this.scope.nodeId}:counted:${this.scope.logId}:${consumer}`;
  }
}

/** A bucket's counts summed over its configuration sets, or of one set. */
function sum(fields: Record<string, string>, configurationSet?: string): SendCounts {
  const counts = fullCounts();
  for (const [field, value] of Object.entries(fields)) {
    const separator = field.indexOf(':');
    const counter = field.slice(0, separator) as keyof SendCounts;
    if (separator < 0 || !(counter in counts) || (configurationSet !== undefined && field.slice(separator + 1) !== configurationSet)) continue;
    counts[counter] += Number(value);
  }
  return counts;
}
