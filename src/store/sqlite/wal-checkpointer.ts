import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { SqliteDatabase } from './database.js';

const THREAD_SCRIPT = new URL('./wal-checkpoint-thread.js', import.meta.url);
/** SQLite's own default: a checkpoint by the committing connection once the WAL holds this many pages. */
const AUTOCHECKPOINT_PAGES = 1000;

export interface CheckpointThreadData {
  path: string;
  /** How soon the thread looks again after the WAL grew. */
  busyIntervalMs: number;
  /** How soon it looks again after it did not. */
  idleIntervalMs: number;
}

export type FromCheckpointThread = { kind: 'failed'; message: string };

/**
 * Checkpoints a database's WAL on a thread of its own instead of in the commits of `db`. SQLite's automatic checkpoint
 * runs in the commit that crosses 1,000 pages of WAL: it copies those pages into the database file and fsyncs both
 * files on the committing thread, so with 100 KB bodies in the queue the primary's event loop stood still for a
 * checkpoint every few dozen messages. If the thread fails, `db` checkpoints itself again, as SQLite does by default.
 */
export class WalCheckpointer {
  private readonly thread: Worker;

  constructor(
    private readonly db: SqliteDatabase,
    log: Logger,
    intervals: Omit<CheckpointThreadData, 'path'> = { busyIntervalMs: 50, idleIntervalMs: 1000 },
  ) {
    db.pragma('wal_autocheckpoint = 0');
    const data: CheckpointThreadData = { path: db.name, ...intervals };
    this.thread = new Worker(THREAD_SCRIPT, { workerData: data });
    this.thread.unref();
    const fallBack = (problem: string) => {
      log.error({ database: db.name, problem }, 'WAL checkpoint thread failed; the database checkpoints in its commits again');
      this.restoreAutocheckpoint();
    };
    this.thread.on('message', (message: FromCheckpointThread) => fallBack(message.message));
    this.thread.on('error', (error) => fallBack(error.message));
  }

  /** Lets the thread close its connection (the last one to close checkpoints the rest and removes the WAL). */
  stop(): void {
    this.thread.postMessage('stop');
  }

  private restoreAutocheckpoint(): void {
    if (this.db.open) this.db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
  }
}
