import type { SqliteDatabase } from '../store/sqlite/database.js';
import { withoutFsync } from '../store/sqlite/without-fsync.js';
import { fullCounts, type CountsUpdate, type LocalSendStatistics, type SendCounts } from './send-statistics.js';
import type { SqliteEventLog } from './sqlite-event-log.js';

interface CountsRow {
  bucket: number;
  delivery_attempts: number;
  bounces: number;
  complaints: number;
  rejects: number;
  reputation_sent: number;
  reputation_bounces: number;
  reputation_complaints: number;
}

const SUMS = `SUM(delivery_attempts) AS delivery_attempts, SUM(bounces) AS bounces, SUM(complaints) AS complaints, SUM(rejects) AS rejects,
  SUM(reputation_sent) AS reputation_sent, SUM(reputation_bounces) AS reputation_bounces, SUM(reputation_complaints) AS reputation_complaints`;

const toCounts = (row: Partial<CountsRow> | undefined): SendCounts => ({
  deliveryAttempts: row?.delivery_attempts ?? 0,
  bounces: row?.bounces ?? 0,
  complaints: row?.complaints ?? 0,
  rejects: row?.rejects ?? 0,
  reputationSent: row?.reputation_sent ?? 0,
  reputationBounces: row?.reputation_bounces ?? 0,
  reputationComplaints: row?.reputation_complaints ?? 0,
});

/** Statistics in queue.db, whose cursor is the consumer's own in the event log (moved in the same transaction). */
export class SqliteSendStatistics implements LocalSendStatistics {
  private readonly applyAll;
  private readonly selectPoints;
  private readonly selectTotals;
  private readonly selectSetTotals;
  private readonly deleteBefore;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly events: SqliteEventLog,
  ) {
    const add = db.prepare(
      `INSERT INTO send_statistics (account_id, configuration_set, bucket, delivery_attempts, bounces, complaints, rejects, reputation_sent, reputation_bounces, reputation_complaints)
       VALUES (@accountId, @configurationSet, @bucket, @deliveryAttempts, @bounces, @complaints, @rejects, @reputationSent, @reputationBounces, @reputationComplaints)
       ON CONFLICT (account_id, configuration_set, bucket) DO UPDATE SET
         delivery_attempts = delivery_attempts + excluded.delivery_attempts, bounces = bounces + excluded.bounces,
         complaints = complaints + excluded.complaints, rejects = rejects + excluded.rejects,
         reputation_sent = reputation_sent + excluded.reputation_sent, reputation_bounces = reputation_bounces + excluded.reputation_bounces,
         reputation_complaints = reputation_complaints + excluded.reputation_complaints`,
    );
    this.applyAll = db.transaction((updates: readonly CountsUpdate[], consumer: string, seq: number) => {
      for (const { accountId, configurationSet, bucket, counts } of updates) add.run({ accountId, configurationSet, bucket, ...fullCounts(counts) });
      events.advanceWithin(consumer, seq);
    });
    this.selectPoints = db.prepare(`SELECT bucket, ${SUMS} FROM send_statistics WHERE account_id = ? AND bucket >= ? GROUP BY bucket ORDER BY bucket`);
    this.selectTotals = db.prepare(`SELECT ${SUMS} FROM send_statistics WHERE account_id = ? AND bucket >= ?`);
    this.selectSetTotals = db.prepare(`SELECT ${SUMS} FROM send_statistics WHERE account_id = ? AND bucket >= ? AND configuration_set = ?`);
    this.deleteBefore = db.prepare('DELETE FROM send_statistics WHERE bucket < ?');
  }

  async apply(updates: readonly CountsUpdate[], consumer: string, seq: number): Promise<void> {
    // Counts and cursor move together, so a power cut loses both and the events are counted again: still once each.
    withoutFsync(this.db, () => this.applyAll.immediate(updates, consumer, seq));
  }

  async countedThrough(consumer: string): Promise<number> {
    return this.events.consumers().find((cursor) => cursor.consumer === consumer)?.seq ?? 0;
  }

  async dataPoints(accountId: string, since: number): Promise<Array<SendCounts & { bucket: number }>> {
    return (this.selectPoints.all(accountId, since) as CountsRow[]).map((row) => ({ bucket: row.bucket, ...toCounts(row) }));
  }

  async totals(accountId: string, since: number, configurationSet?: string): Promise<SendCounts> {
    const row = configurationSet === undefined ? this.selectTotals.get(accountId, since) : this.selectSetTotals.get(accountId, since, configurationSet);
    return toCounts(row as CountsRow | undefined);
  }

  prune(before: number): number {
    return this.deleteBefore.run(before).changes;
  }
}
