import type { Logger } from 'pino';
import { backoffMs } from '../../delivery/retry-schedule.js';
import type { EventLog } from '../../queue/event-log.js';
import { describeTarget } from '../destinations/create-transport.js';
import type { OutboundRecord, Transport } from '../destinations/transport.js';
import type { Channel, RoutedRecord, Subscription } from './subscription.js';

/** How long a wake-up waits for more events to gather before a pass. */
const GATHER_MS = 20;

export interface ConsumerOptions {
  /** Most events read and sent at once. */
  batchSize: number;
  retry: { firstDelayMs: number; maxDelayMs: number };
}

/**
 * Runs one subscription: reads the events after its cursor, sends what it routes, and advances the cursor only once
 * the transport took every record. A failed send is tried again after a backoff with the same events, one at first
 * and twice as many after each success (so one bad record does not make a whole batch fail over and over): order is
 * kept, and the subscription waits — others do not.
 */
export class LogConsumer {
  private subscription: Subscription;
  private draining: Promise<void> | null = null;
  private wakeRequested = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private failures = 0;
  private limit: number;
  private stopped = false;

  constructor(
    subscription: Subscription,
    private readonly log: EventLog,
    private readonly transport: (channel: Channel) => Transport,
    private readonly options: ConsumerOptions,
    private readonly logger: Logger,
  ) {
    this.subscription = subscription;
    this.limit = options.batchSize;
  }

  get consumer(): string {
    return this.subscription.consumer;
  }

  /** The same consumer with new settings (a changed destination or topic), used from the next batch on. */
  update(subscription: Subscription): void {
    this.subscription = subscription;
  }

  /** Sends what is waiting, unless a send is in progress (it will look again) or a retry is scheduled. */
  wake(): void {
    if (this.stopped || this.retryTimer) return;
    if (this.draining) {
      this.wakeRequested = true;
      return;
    }
    // A moment after the wake-up, so one pass (and one cursor write) covers the events of many commits.
    this.draining = new Promise<void>((resolve) => setTimeout(resolve, GATHER_MS))
      .then(() => this.drain())
      .catch((error: unknown) => this.logger.error({ err: error, consumer: this.consumer }, 'event consumer failed'))
      .finally(() => {
        this.draining = null;
        if (this.wakeRequested) {
          this.wakeRequested = false;
          this.wake();
        }
      });
  }

  /** Stops after the send in progress (the cursor stays where the last completed send left it). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.draining;
  }

  private async drain(): Promise<void> {
    while (!this.stopped) {
      this.wakeRequested = false;
      const events = this.log.read(this.consumer, this.limit);
      if (events.length === 0) return;
      try {
        const routed = (await Promise.all(events.map((event) => this.subscription.route(event)))).flat();
        for (const run of channelRuns(routed)) await this.transport(run.channel).send(run.records);
      } catch (error) {
        this.failed(error);
        return;
      }
      this.log.advance(this.consumer, events[events.length - 1]!.seq);
      if (this.failures > 0) {
        this.logger.info({ consumer: this.consumer, target: describeTarget(this.subscription.target), failures: this.failures }, 'event destination is taking records again');
        this.failures = 0;
      }
      this.limit = Math.min(this.options.batchSize, this.limit * 2);
    }
  }

  private failed(error: unknown): void {
    this.failures++;
    this.limit = 1;
    const delayMs = backoffMs(this.failures, { ...this.options.retry, lifetimeMs: Infinity });
    this.logger.warn(
      { consumer: this.consumer, target: describeTarget(this.subscription.target), error: (error as Error).message, failures: this.failures, backlog: this.log.backlog(this.consumer), retryInMs: delayMs },
      'event destination failed; retrying the same records later',
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.wake();
    }, delayMs);
    this.retryTimer.unref();
  }
}

/** Consecutive records for one channel, sent together; a change of channel starts a new run, so order is kept. */
function channelRuns(routed: readonly RoutedRecord[]): Array<{ channel: Channel; records: OutboundRecord[] }> {
  const runs: Array<{ channel: Channel; records: OutboundRecord[] }> = [];
  for (const { channel, record } of routed) {
    const last = runs[runs.length - 1];
    if (last && last.channel.target === channel.target && last.channel.topicArn === channel.topicArn) last.records.push(record);
    else runs.push({ channel, records: [record] });
  }
  return runs;
}
