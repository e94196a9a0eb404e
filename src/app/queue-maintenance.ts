import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { QueueStore } from '../queue/queue-store.js';

const HOUR_MS = 3_600_000;
/** GetSendStatistics covers two weeks; a day more keeps the oldest point whole. */
const STATISTICS_RETENTION_MS = 15 * 24 * HOUR_MS;
/** Complete messages removed per transaction: each batch holds the primary's event loop for a few milliseconds. */
const COMPLETED_BATCH = 500;

export interface QueueRetention {
  /** Events every consumer has passed are removed once they are this old (events.retentionHours). */
  eventHours: number;
  /** Complete messages and their results are removed this long after completion (delivery.completedRetentionHours). */
  completedHours: number;
}

export interface MaintenancePass {
  events: number;
  statisticsBuckets: number;
  completedMessages: number;
}

/**
 * One pass of keeping queue.db from growing without end: removes events that every consumer has passed and that are
 * older than their retention, statistics buckets older than two weeks, and messages complete for longer than their
 * retention, the last in batches that let sessions' commits run in between. `stopped` ends the pass early.
 */
export async function maintainQueue(queue: QueueStore, retention: QueueRetention, now: number, stopped: () => boolean = () => false): Promise<MaintenancePass> {
  const pass: MaintenancePass = {
    events: queue.events.prune(now - retention.eventHours * HOUR_MS),
    statisticsBuckets: queue.statistics.prune(now - STATISTICS_RETENTION_MS),
    completedMessages: 0,
  };
  const completedBefore = now - retention.completedHours * HOUR_MS;
  while (!stopped()) {
    const removed = queue.removeCompleted(completedBefore, COMPLETED_BATCH);
    pass.completedMessages += removed;
    if (removed < COMPLETED_BATCH) break;
    await nextTurn();
  }
  return pass;
}

/** Runs maintainQueue at start and every hour, one pass at a time. Returns a stop function. */
export function startQueueMaintenance(queue: QueueStore, retention: QueueRetention, log: Logger, now: () => number = Date.now): () => void {
  let stopped = false;
  let running = false;
  const run = async () => {
    if (running) return;
    running = true;
    try {
      const pass = await maintainQueue(queue, retention, now(), () => stopped);
      if (pass.events + pass.statisticsBuckets + pass.completedMessages > 0) log.info(pass, 'removed old events, statistics and complete messages');
    } catch (error) {
      log.warn({ err: error }, 'could not remove old events, statistics and complete messages; trying again in an hour');
    } finally {
      running = false;
    }
  };
  void run();
  const timer = setInterval(() => void run(), HOUR_MS);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
