import type { Logger } from 'pino';
import type { QueueStore } from '../queue/queue-store.js';

const HOUR_MS = 3_600_000;
/** GetSendStatistics covers two weeks; a day more keeps the oldest point whole. */
const STATISTICS_RETENTION_MS = 15 * 24 * HOUR_MS;

/**
 * Keeps queue.db from growing without end: every hour (and at start) removes events that every consumer has passed
 * and that are older than the retention, and statistics buckets older than two weeks. Returns a stop function.
 */
export function startLogMaintenance(queue: QueueStore, eventRetentionHours: number, log: Logger, now: () => number = Date.now): () => void {
  const run = () => {
    try {
      const events = queue.events.prune(now() - eventRetentionHours * HOUR_MS);
      const buckets = queue.statistics.prune(now() - STATISTICS_RETENTION_MS);
      if (events + buckets > 0) log.info({ events, statisticsBuckets: buckets }, 'removed old events and statistics');
    } catch (error) {
      log.warn({ err: error }, 'could not remove old events and statistics; trying again in an hour');
    }
  };
  run();
  const timer = setInterval(run, HOUR_MS);
  timer.unref();
  return () => clearInterval(timer);
}
