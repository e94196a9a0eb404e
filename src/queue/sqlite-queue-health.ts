import type { SqliteDatabase } from '../store/sqlite/database.js';

/** What the metrics and readiness endpoints read from the queue database. */
export class SqliteQueueHealth {
  private readonly countStates;
  private readonly probe;

  constructor(db: SqliteDatabase) {
    this.countStates = db.prepare('SELECT state, COUNT(*) AS count FROM deliveries GROUP BY state');
    // BEGIN IMMEDIATE takes the database's write lock (and fails on a read-only file): the queue could commit now.
    this.probe = db.transaction(() => undefined);
  }

  /** Recipients (delivery rows) per state. */
  depthByState(): Record<string, number> {
    return Object.fromEntries((this.countStates.all() as Array<{ state: string; count: number }>).map((row) => [row.state, row.count]));
  }

  /** Throws when the queue database cannot take a write transaction now. */
  checkWritable(): void {
    this.probe.immediate();
  }
}
