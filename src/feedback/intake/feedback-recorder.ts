import type { FeedbackBatch, FeedbackRecords } from '../../queue/feedback-records.js';

interface Pending {
  batch: FeedbackBatch;
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * Makes feedback durable before intake answers 250: the batches of sessions that finish in the same moment share
 * one SQLite commit (group commit), as accepted messages do, so a burst of DSNs does not pay one fsync each.
 */
export class FeedbackRecorder {
  private waiting: Pending[] = [];
  private scheduled = false;

  constructor(private readonly records: FeedbackRecords) {}

  record(batch: FeedbackBatch): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ batch, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.commit());
    });
  }

  private commit(): void {
    this.scheduled = false;
    const pending = this.waiting;
    this.waiting = [];
    try {
      this.records.record({ events: pending.flatMap((entry) => entry.batch.events), bounces: pending.flatMap((entry) => entry.batch.bounces) });
    } catch (error) {
      for (const entry of pending) entry.reject(error as Error);
      return;
    }
    for (const entry of pending) entry.resolve();
  }
}
