import type { Redis } from 'ioredis';
import type { SuppressionReason } from '../configuration-sets.js';
import { decodePageToken, DEFAULT_PAGE_SIZE, encodePageToken } from '../suppression-page-token.js';
import {
  DEFAULT_SUPPRESSED_REASONS,
  suppressionKey,
  type SuppressedDestination,
  type SuppressionListFilter,
  type SuppressionPage,
  type SuppressionStore,
} from '../suppression.js';
import type { ControlKeys } from './control-keys.js';
import { invertedTime, memberAddress, memberTime, queueScript, type ScriptName } from './control-scripts.js';
import { pipelineReplies } from './hash-records.js';

/** An entry's value in the account's hash. */
type EntryValue = [lastUpdateTime: number, reason: SuppressionReason, messageId: string | null, feedbackId: string | null];

/**
 * Addresses per script call: each call is atomic and short (about 20 ms), so a 100,000-address import goes as a
 * pipelined series of small steps instead of one that would stall every node's commands while it runs.
 */
const BATCH = 1000;

/** Batches sent together in one pipeline: about 100 ms of Redis's time. */
const WINDOW = 5;

type ScriptCall = [keys: string[], args: Array<string | number>];

const batches = <T>(items: readonly T[]): T[][] => Array.from({ length: Math.ceil(items.length / BATCH) }, (_, index) => items.slice(index * BATCH, (index + 1) * BATCH));

/**
 * The suppression list of each account: a hash of its entries and by-time indexes (the whole list, and one per reason
 * for the reason filter) whose members sort newest first and then by address, the order SQLite lists them in; a page
 * is one range read of an index after the token's member and one read of the entries.
 */
export class RedisSuppressionStore implements SuppressionStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ControlKeys,
  ) {}

  private scriptKeys(accountId: string): string[] {
    return [this.keys.suppression(accountId), this.keys.suppressionByTime(accountId), this.keys.suppressionByTime(accountId, 'BOUNCE'), this.keys.suppressionByTime(accountId, 'COMPLAINT')];
  }

  /** Adds or updates entries, a batch of 1,000 at a time (each batch atomic; putting again is harmless); returns how many were written. */
  async put(entries: Parameters<SuppressionStore['put']>[0]): Promise<number> {
    const now = Date.now();
    const byAccount = new Map<string, Array<(typeof entries)[number]>>();
    for (const entry of entries) {
      const accountEntries = byAccount.get(entry.accountId);
      if (accountEntries) accountEntries.push(entry);
      else byAccount.set(entry.accountId, [entry]);
    }
    const calls = [...byAccount].flatMap(([accountId, accountEntries]) =>
      batches(accountEntries).map((batch): ScriptCall => {
        const args = batch.flatMap((entry) => {
          const time = entry.lastUpdateTime?.getTime() ?? now;
          const value: EntryValue = [time, entry.reason, entry.messageId, entry.feedbackId];
          return [suppressionKey(entry.emailAddress), time, entry.reason, JSON.stringify(value)];
        });
        return [this.scriptKeys(accountId), args];
      }),
    );
    return this.runBatches('relaygatePutSuppressed', calls);
  }

  async get(accountId: string, emailAddress: string): Promise<SuppressedDestination | null> {
    const address = suppressionKey(emailAddress);
    const value = await this.redis.hget(this.keys.suppression(accountId), address);
    return value === null ? null : toEntry(accountId, address, value);
  }

  async delete(accountId: string, emailAddresses: readonly string[]): Promise<number> {
    const keys = this.scriptKeys(accountId);
    return this.runBatches('relaygateDeleteSuppressed', batches(emailAddresses).map((batch): ScriptCall => [keys, batch.map(suppressionKey)]));
  }

  /** Runs the script calls a window at a time, so that each reply comes well within the connection's command timeout; the sum of their counts. */
  private async runBatches(script: ScriptName, calls: readonly ScriptCall[]): Promise<number> {
    let total = 0;
    for (let start = 0; start < calls.length; start += WINDOW) {
      const pipeline = this.redis.pipeline();
      for (const [keys, args] of calls.slice(start, start + WINDOW)) queueScript(pipeline, script, keys, args);
      for (const count of pipelineReplies(await pipeline.exec())) total += count as number;
    }
    return total;
  }

  async list(accountId: string, filter: SuppressionListFilter = {}): Promise<SuppressionPage> {
    const pageSize = filter.pageSize ?? DEFAULT_PAGE_SIZE;
    const reasons = new Set(filter.reasons ?? []);
    // One reason: its own index; none or both: the whole list's.
    const index = this.keys.suppressionByTime(accountId, reasons.size === 1 ? [...reasons][0] : undefined);
    const members = await this.redis.zrangebylex(index, lowerBound(filter), upperBound(filter), 'LIMIT', 0, pageSize + 1);
    const addresses = members.slice(0, pageSize).map(memberAddress);
    const values = addresses.length === 0 ? [] : await this.redis.hmget(this.keys.suppression(accountId), ...addresses);
    const entries = addresses.flatMap((address, position) => {
      const value = values[position];
      return value ? [toEntry(accountId, address, value)] : [];
    });
    const last = members[pageSize - 1];
    return { entries, ...(members.length > pageSize && last ? { nextToken: encodePageToken(memberTime(last), memberAddress(last)) } : {}) };
  }

  async suppressed(accountId: string, emailAddresses: readonly string[]): Promise<Set<string>> {
    if (emailAddresses.length === 0) return new Set();
    const values = await this.redis.hmget(this.keys.suppression(accountId), ...emailAddresses.map(suppressionKey));
    return new Set(emailAddresses.filter((_, position) => values[position] !== null));
  }

  async reasons(accountId: string): Promise<SuppressionReason[]> {
    const stored = await this.redis.get(this.keys.suppressionReasons(accountId));
    return stored === null ? [...DEFAULT_SUPPRESSED_REASONS] : (JSON.parse(stored) as SuppressionReason[]);
  }

  async setReasons(accountId: string, reasons: readonly SuppressionReason[]): Promise<void> {
    await this.redis.set(this.keys.suppressionReasons(accountId), JSON.stringify([...new Set(reasons)]));
  }
}

function toEntry(accountId: string, emailAddress: string, value: string): SuppressedDestination {
  const [time, reason, messageId, feedbackId] = JSON.parse(value) as EntryValue;
  return { accountId, emailAddress, reason, lastUpdateTime: new Date(time), messageId, feedbackId };
}

/**
 * The lexical range of a page. Members are "INVERTED-TIME:address", so a later time sorts first: updated before the
 * end date means at or past "INVERTED-END;" (';' follows ':'), after the start date means before "INVERTED-START";
 * and the next page starts after the token's member.
 */
function lowerBound(filter: SuppressionListFilter): string {
  const bounds: string[] = [];
  if (filter.endDate) bounds.push(`[${invertedTime(filter.endDate.getTime())};`);
  if (filter.nextToken) {
    const [time, address] = decodePageToken(filter.nextToken);
    bounds.push(`(${invertedTime(time)}:${address}`);
  }
  // The time part decides between the two (they differ within it or at the ':'/';' after it).
  return bounds.length === 0 ? '-' : bounds.reduce((highest, bound) => (bound.slice(1) > highest.slice(1) ? bound : highest));
}

function upperBound(filter: SuppressionListFilter): string {
  return filter.startDate ? `(${invertedTime(filter.startDate.getTime())}` : '+';
}
