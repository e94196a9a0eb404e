import type { DestinationThrottle } from './destination-throttle.js';
import type { Connected, Destination, MxConnector } from './mx-connector.js';
import type { Transaction } from './transaction.js';

/** What a ready queue asks of the engine for each transaction. */
export interface TransactionRunner {
  /** Sends over an open session and records the results; returns a transaction to continue with at once (the recipients a 452 deferred), or null. */
  send(transaction: Transaction, connected: Connected): Promise<Transaction | null>;
  /** No session could be opened for it (`error` is a ConnectFailure or SourceUnavailableError). */
  unsent(transaction: Transaction, error: Error, destination: Destination): void;
  /**
   * send() or unsent() threw instead of reporting, or a worker failed (a defect): the runner logs it and gives the
   * transaction's deliveries, if any, back to the queue. Never throws.
   */
  failed(error: unknown, transaction?: Transaction): void;
}

/**
 * Transactions due for one destination (source address, MX site, TLS mode), sent over a few reused connections.
 * A connection takes the next waiting transaction once the last one ended (with an RSET if it failed part-way) until
 * it has carried messagesPerConnection; it then reconnects. An idle connection lingers for `idleMs` so mail that
 * arrives just after is sent on it too.
 * New connections open while transactions wait and the destination throttle has slots.
 */
export class ReadyQueue {
  private readonly pending: Transaction[] = [];
  private readonly idle: Array<(transaction: Transaction | null) => void> = [];
  private readonly clients = new Set<Connected>();
  private workers = 0;
  private stopped = false;
  private drained: (() => void) | null = null;
  private readonly retrySpawn = () => this.spawn();

  constructor(
    private readonly destination: Destination,
    private readonly throttle: DestinationThrottle,
    private readonly connector: MxConnector,
    private readonly runner: TransactionRunner,
    private readonly idleMs: number,
    private readonly onEmpty: () => void,
  ) {
    throttle.share(this);
  }

  /** Transactions waiting for a connection. */
  get waiting(): number {
    return this.pending.length;
  }

  enqueue(transaction: Transaction): void {
    const worker = this.idle.shift();
    if (worker) return worker(transaction);
    this.pending.push(transaction);
    this.spawn();
  }

  /** Stops taking work: returns the transactions that never started; resolves once the running ones are done. */
  stop(): { unsent: Transaction[]; done: Promise<void> } {
    this.stopped = true;
    for (const worker of this.idle.splice(0)) worker(null);
    const unsent = this.pending.splice(0);
    const done = this.workers === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve));
    return { unsent, done };
  }

  /** Lets idle connections go, so that another queue sharing the throttle gets their slots. */
  dropIdle(): void {
    for (const worker of this.idle.splice(0)) worker(null);
  }

  /** Closes every connection at once (a shutdown that could not wait any longer). */
  abort(): void {
    for (const connected of this.clients) connected.client.close();
  }

  private spawn(): void {
    if (this.stopped) return;
    // A new worker takes a waiting transaction at once, so each turn of the loop opens one connection for one of them.
    while (this.pending.length > 0) {
      if (!this.throttle.tryOpen()) {
        this.throttle.whenFree(this.retrySpawn);
        return;
      }
      this.workers++;
      this.work().catch((error: unknown) => this.runner.failed(error));
    }
  }

  private nextTransaction(connected: Connected | null): Promise<Transaction | null> {
    const next = this.pending.shift();
    if (next) return Promise.resolve(next);
    // The slot this queue asked for when its connections were all busy is not needed any more. Left waiting, it made
    // the queue look contended by itself, and every connection that ran out of work closed instead of lingering.
    this.throttle.stopWaiting(this.retrySpawn);
    if (!connected || this.stopped || this.throttle.contended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const take = (transaction: Transaction | null) => {
        clearTimeout(timer);
        resolve(transaction);
      };
      const timer = setTimeout(() => {
        this.idle.splice(this.idle.indexOf(take), 1);
        resolve(null);
      }, this.idleMs);
      this.idle.push(take);
    });
  }

  private async work(): Promise<void> {
    let connected: Connected | null = null;
    let sent = 0;
    try {
      for (;;) {
        const transaction = await this.nextTransaction(connected?.client.usable ? connected : null);
        if (!transaction) break;
        if (!connected?.client.usable) {
          try {
            connected = await this.connector.connect(this.destination);
            this.clients.add(connected);
            sent = 0;
          } catch (error) {
            // Every transaction waiting here has the same destination: it would fail the same way now.
            for (const unsent of [transaction, ...this.pending.splice(0)]) this.reportUnsent(unsent, error as Error);
            break;
          }
        }
        await this.throttle.pace();
        let continuation: Transaction | null;
        try {
          continuation = await this.runner.send(transaction, connected);
        } catch (error) {
          // Not a reply but a defect: the session is in an unknown state, so it is cut and the next transaction opens another.
          this.runner.failed(error, transaction);
          connected.client.close();
          this.clients.delete(connected);
          connected = null;
          continue;
        }
        sent++;
        if (continuation) this.pending.unshift(continuation);
        if (!connected.client.usable) continue;
        if (sent >= this.throttle.limits.messagesPerConnection) {
          await this.release(connected);
          connected = null;
          continue;
        }
        await connected.client.readyForNextTransaction().catch(() => connected?.client.close());
      }
    } finally {
      if (connected) await this.release(connected);
      this.workers--;
      this.throttle.closed();
      if (this.workers === 0) {
        this.drained?.();
        if (this.pending.length === 0) {
          this.throttle.unshare(this);
          this.onEmpty();
        }
      }
      this.spawn();
    }
  }

  private reportUnsent(transaction: Transaction, error: Error): void {
    try {
      this.runner.unsent(transaction, error, this.destination);
    } catch (defect) {
      this.runner.failed(defect, transaction);
    }
  }

  private async release(connected: Connected): Promise<void> {
    await connected.client.quit();
    this.clients.delete(connected);
  }
}
