import type { Logger } from 'pino';
import { StoreUnavailableError } from '../common/store-unavailable.js';

/**
 * After a call found the store unreachable, further calls fail at once for this long instead of each waiting for a
 * connection or a command timeout; then one call tries again. It bounds what an outage adds to every submission.
 */
const RETRY_INTERVAL_MS = 1000;

/**
 * Whether a shared store (the cluster's Redis) is answering, and when it last did. Every call the cache makes to the
 * store goes through `call`; StoreUnavailableError (and nothing else) counts as "unreachable".
 */
export class StoreContact {
  private lastReachedAt: number | null = null;
  private outage: { since: number; triedAt: number; error: StoreUnavailableError } | null = null;

  constructor(
    /** What the store is, for logs: "control store". */
    readonly what: string,
    readonly now: () => number = Date.now,
    private readonly log?: Pick<Logger, 'warn' | 'info'>,
  ) {}

  async call<T>(call: () => Promise<T>): Promise<T> {
    const outage = this.outage;
    if (outage) {
      if (this.now() - outage.triedAt < RETRY_INTERVAL_MS) throw outage.error;
      outage.triedAt = this.now();
    }
    let value: T;
    try {
      value = await call();
    } catch (error) {
      if (error instanceof StoreUnavailableError) this.unreachable(error);
      throw error;
    }
    this.reached();
    return value;
  }

  /** Whether values read before an outage may still stand in: the store answered within the last `graceMs` (0: never). */
  withinGrace(graceMs: number): boolean {
    return graceMs > 0 && this.lastReachedAt !== null && this.now() - this.lastReachedAt <= graceMs;
  }

  private reached(): void {
    this.lastReachedAt = this.now();
    if (!this.outage) return;
    this.log?.info({ store: this.what, unreachableMs: this.lastReachedAt - this.outage.since }, `${this.what} reachable again`);
    this.outage = null;
  }

  private unreachable(error: StoreUnavailableError): void {
    const now = this.now();
    if (this.outage) {
      this.outage.error = error;
      return;
    }
    this.outage = { since: now, triedAt: now, error };
    this.log?.warn({ err: error, store: this.what, lastReachedMsAgo: this.lastReachedAt === null ? null : now - this.lastReachedAt }, `${this.what} unreachable: answering from cached values while the grace lasts, then with temporary failures`);
  }
}

interface Entry<T> {
  value: T;
  /** When the lookup that read it began: a write after that moment may have changed it. */
  readAt: number;
  /** The expiry generation the lookup began in: an expireAll since then makes it due. */
  generation: number;
}

/**
 * One cached read of a store (one method): a value is reused for `freshMs` after it was read; after that the store is
 * asked again, and if it is unreachable the last value read stands in while `contact.withinGrace(graceMs)` holds
 * (graceMs is the caller's: submissions and delivery tolerate different ages). A key never read, or a grace that
 * has run out, gets the StoreUnavailableError. Other errors are passed on and never cached. Concurrent reads of a key
 * share one lookup. Values are shared between callers, who must not modify them.
 */
export class CacheWithGrace<T> {
  private readonly entries = new Map<string, Entry<T>>();
  private readonly pending = new Map<string, { generation: number; promise: Promise<T> }>();
  /** Counts expireAll calls: entries and lookups of an earlier generation are due for a re-read (a write went through since). */
  private generation = 0;

  constructor(
    private readonly contact: StoreContact,
    private readonly freshMs: number,
    /** Beyond this many entries, the one read longest ago goes. */
    private readonly maxEntries = 10_000,
  ) {}

  async get(key: string, lookup: () => Promise<T>, graceMs: number): Promise<T> {
    const now = this.contact.now();
    const entry = this.entries.get(key);
    if (entry && entry.generation === this.generation && now - entry.readAt < this.freshMs) return entry.value;
    try {
      return await this.read(key, lookup, now);
    } catch (error) {
      const last = this.entries.get(key);
      if (error instanceof StoreUnavailableError && last && this.contact.withinGrace(graceMs)) return last.value;
      throw error;
    }
  }

  /** After a write: every entry is read again on its next use, and stays the stand-in should the store be unreachable then. */
  expireAll(): void {
    this.generation++;
  }

  private read(key: string, lookup: () => Promise<T>, startedAt: number): Promise<T> {
    const pending = this.pending.get(key);
    const generation = this.generation;
    if (pending && pending.generation === generation) return pending.promise;
    const settle = () => {
      if (this.pending.get(key)?.promise === promise) this.pending.delete(key);
    };
    const promise: Promise<T> = this.contact.call(lookup).then(
      (value) => {
        settle();
        this.remember(key, { value, readAt: startedAt, generation });
        return value;
      },
      (error: unknown) => {
        settle();
        throw error;
      },
    );
    this.pending.set(key, { generation, promise });
    return promise;
  }

  private remember(key: string, entry: Entry<T>): void {
    const current = this.entries.get(key);
    // A slower lookup that began earlier must not replace what a later one read.
    if (current && (current.generation > entry.generation || current.readAt > entry.readAt)) return;
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
  }
}
