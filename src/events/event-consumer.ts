import type { Logger } from 'pino';
import type { StoredMailEvent } from './mail-event.js';
import type { EventLog } from '../queue/event-log.js';

/** How long a wake-up waits for more events to gather before a pass. */
const GATHER_MS = 20;

/** What a consumer of the event log does with a batch of events; it must be idempotent (a batch may come again). */
export interface EventHandler {
  /** The consumer's cursor name in the log. */
  readonly name: string;
  handle(events: readonly StoredMailEvent[]): Promise<void>;
}

export interface EventConsumerOptions {
  batchSize?: number;
  /** First wait after a failed batch; doubles up to maxRetryMs. */
  retryMs?: number;
  maxRetryMs?: number;
  /** How often to look for events appended by other processes (commits in this one wake it at once). */
  pollMs?: number;
}

/**
 * Runs one handler over the event log: woken by every commit that appends events, it hands the events after its
 * cursor to the handler a batch at a time and moves the cursor only once the handler is done, so a crash or a failure
 * means the batch comes again (at least once), never that it is skipped. A failing batch is retried with backoff.
 */
export class EventConsumer {
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly pollMs: number;
  private retryMs: number;
  private readonly batchSize: number;
  private readonly firstRetryMs: number;
  private readonly maxRetryMs: number;

  constructor(
    private readonly events: EventLog,
    private readonly handler: EventHandler,
    private readonly log: Logger,
    options: EventConsumerOptions = {},
  ) {
    this.batchSize = options.batchSize ?? 500;
    this.firstRetryMs = this.retryMs = options.retryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 60_000;
    this.pollMs = options.pollMs ?? 1000;
  }

  /** Starts with whatever the log already holds, then follows new commits. */
  start(): void {
    this.events.onAppended(() => this.wake());
    this.pollTimer = setInterval(() => this.wake(), this.pollMs);
    this.pollTimer.unref();
    this.wake();
  }

  wake(): void {
    if (this.stopped || this.retryTimer) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // Never inside the committer's call (the hot path of acceptance and delivery results), and a moment later, so one
    // pass takes the events of many commits.
    this.running = new Promise<void>((resolve) => setTimeout(resolve, GATHER_MS)).then(() => this.drain()).finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  /** Lets the batch in hand finish; nothing new starts. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (!this.stopped) {
        const batch = this.events.read(this.handler.name, this.batchSize);
        if (batch.length === 0) return;
        await this.handler.handle(batch);
        this.events.advance(this.handler.name, batch[batch.length - 1]!.seq);
        this.retryMs = this.firstRetryMs;
        // A short batch was all there was: a later commit of this process wakes the consumer, the poll finds others'.
        if (batch.length < this.batchSize) return;
      }
    } catch (error) {
      this.log.warn({ err: error, consumer: this.handler.name, retryInMs: this.retryMs }, 'event consumer failed; retrying');
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.wake();
      }, this.retryMs);
      this.retryTimer.unref();
      this.retryMs = Math.min(this.retryMs * 2, this.maxRetryMs);
    }
  }
}
