import type { FeedbackBatch, FeedbackRecords } from '../../queue/feedback-records.js';

interface Pending {
  batch: FeedbackBatch;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * How long a batch waits for feedback still being parsed: each commit is an fsync (several milliseconds), so during
 * a burst many reports share one, while a lone report is committed at once.
 */
const GATHER_MS = 10;

/**
 * Makes feedback durable before intake answers 250, in group commits: the batches of every report that is ready
 * within GATHER_MS share one SQLite commit, as accepted messages and delivery results do.
 */
export class FeedbackRecorder {
  private waiting: Pending[] = [];
  private timer: NodeJS.Timeout | null = null;
  private immediate = false;

  /** `inProgress` counts the reports being read that may still join the batch. */
  constructor(
    private readonly records: FeedbackRecords,
    private readonly inProgress: () => number,
    private readonly gatherMs = GATHER_MS,
  ) {}

  record(batch: FeedbackBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      this.schedule();
    });
  }

  /** Called when a report in progress ends without a batch: the one being waited for may be the last. */
  settled(): void {
    if (this.waiting.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.inProgress() === 0) {
      if (this.immediate) return;
      this.immediate = true;
      setImmediate(() => this.commit());
    } else {
      this.timer ??= setTimeout(() => this.commit(), this.gatherMs);
    }
  }

  private commit(): void {
    this.immediate = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const pending = this.waiting;
    this.waiting = [];
    if (pending.length === 0) return;
    try {
      this.records.record({ events: pending.flatMap((entry) => entry.batch.events), bounces: pending.flatMap((entry) => entry.batch.bounces) });
    } catch (error) {
      for (const entry of pending) entry.reject(error as Error);
      return;
    }
    for (const entry of pending) entry.resolve();
  }
}
