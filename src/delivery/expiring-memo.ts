type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

/**
 * Remembers the outcome of an asynchronous lookup per key for as long as `lifetimeMs` says (by outcome, so failures
 * can be kept shorter than answers), and lets concurrent callers for one key share a single lookup.
 */
export class ExpiringMemo<T> {
  private readonly entries = new Map<string, { settled: Settled<T>; expiresAt: number }>();
  private readonly pending = new Map<string, Promise<T>>();

  constructor(
    private readonly lifetimeMs: (settled: Settled<T>) => number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string, lookup: () => Promise<T>): Promise<T> {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt > this.now()) return entry.settled.ok ? Promise.resolve(entry.settled.value) : Promise.reject(entry.settled.error);
    let promise = this.pending.get(key);
    if (!promise) {
      promise = lookup().then(
        (value) => this.remember(key, { ok: true, value }),
        (error: unknown) => this.remember(key, { ok: false, error }),
      );
      this.pending.set(key, promise);
    }
    return promise;
  }

  private remember(key: string, settled: Settled<T>): T {
    this.pending.delete(key);
    if (this.entries.size > 10_000) this.entries.clear();
    this.entries.set(key, { settled, expiresAt: this.now() + this.lifetimeMs(settled) });
    if (!settled.ok) throw settled.error;
    return settled.value;
  }
}
