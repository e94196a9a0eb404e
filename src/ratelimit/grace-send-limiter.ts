import { LimiterUnavailableError } from './limiter-unavailable-error.js';
import { MemorySendLimiter } from './memory-send-limiter.js';
import type { AcquireRequest, AcquireResult, SendLimiter } from './send-limiter.js';

export interface GraceSendLimiterOptions {
  /** How long after the fleet's limiter last answered this node may decide alone (cluster.redisGraceSeconds); 0: never. */
  graceMs: number;
  /** The nodes last seen alive: while alone, the node takes this share of an account's send rate. */
  nodes: () => number;
  now?: () => number;
}

/**
 * The fleet's limiter (Redis) with the grace cluster mode gives submissions while Redis is unreachable: for `graceMs`
 * after Redis last answered, a message is charged to a limiter of this node alone, at the account's send rate divided
 * by the nodes last seen. The 24-hour quota cannot be counted without the fleet, so within the grace it is not
 * checked (the fleet can go past it by at most maxSendRate × the grace); past the grace, acquire rejects with
 * LimiterUnavailableError (451 4.3.0) until Redis answers again.
 */
export class GraceSendLimiter implements SendLimiter {
  readonly #fleet: SendLimiter;
  readonly #alone = new MemorySendLimiter();
  readonly #options: GraceSendLimiterOptions;
  readonly #now: () => number;
  #lastAnsweredAt: number;

  constructor(fleet: SendLimiter, options: GraceSendLimiterOptions) {
    this.#fleet = fleet;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    // Until Redis first answers, the grace counts from the start (a node starts only once Redis answers its store).
    this.#lastAnsweredAt = this.#now();
  }

  async acquire(request: AcquireRequest): Promise<AcquireResult> {
    try {
      const result = await this.#fleet.acquire(request);
      this.#lastAnsweredAt = this.#now();
      return result;
    } catch (error) {
      if (!(error instanceof LimiterUnavailableError) || !this.#withinGrace()) throw error;
      const share = request.maxSendRate > 0 ? request.maxSendRate / Math.max(1, this.#options.nodes()) : request.maxSendRate;
      return this.#alone.acquire({ ...request, maxSendRate: share, max24HourSend: -1 });
    }
  }

  async sentLast24Hours(key: string, now?: number): Promise<number> {
    const sent = await this.#fleet.sentLast24Hours(key, now);
    this.#lastAnsweredAt = this.#now();
    return sent;
  }

  async close(): Promise<void> {
    await this.#alone.close();
    await this.#fleet.close();
  }

  #withinGrace(): boolean {
    return this.#options.graceMs > 0 && this.#now() - this.#lastAnsweredAt <= this.#options.graceMs;
  }
}
