import type Database from 'better-sqlite3';
import { openSqlite } from '../store/sqlite/database.js';
import { decideAcquire } from './acquire-decision.js';
import { minuteOf, oldestCountedMinute } from './quota-window.js';
import type { AcquireRequest, AcquireResult, SendLimiter } from './send-limiter.js';

// WITHOUT ROWID: both tables are only ever looked up by their primary key.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS send_rate_tat (
  key TEXT PRIMARY KEY,
  tat REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS send_quota_minutes (
  key TEXT NOT NULL,
  minute INTEGER NOT NULL,
  recipients INTEGER NOT NULL,
  PRIMARY KEY (key, minute)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS send_quota_minutes_by_minute ON send_quota_minutes (minute);
`;
/** Versions of limits.db; IF NOT EXISTS lets a file from before versioning (user_version 0, tables present) take the first. */
const LIMITER_MIGRATIONS: readonly string[] = [SCHEMA];

interface PendingAcquire {
  request: AcquireRequest;
  now: number;
  resolve: (result: AcquireResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Limiter on a SQLite file, shareable by several processes: each check-and-charge runs inside a
 * BEGIN IMMEDIATE transaction, so two processes can never both pass on the same headroom.
 * The TAT is stored as REAL because emission intervals such as 1000/14 ms are fractional.
 */
export class SqliteSendLimiter implements SendLimiter {
  readonly #db: Database.Database;
  readonly #ownsDatabase: boolean;
  readonly #selectSent: Database.Statement<[string, number], number>;
  readonly #selectTat: Database.Statement<[string], number>;
  readonly #upsertTat: Database.Statement<[string, number]>;
  readonly #addQuotaRecipients: Database.Statement<[string, number, number]>;
  readonly #deleteMinutesBefore: Database.Statement<[number]>;
  readonly #acquireTransaction: Database.Transaction<(batch: readonly PendingAcquire[]) => AcquireResult[]>;
  #pending: PendingAcquire[] = [];
  #prunedAtMinute = -Infinity;

  /**
   * Given a path, opens it as every relaygate database (openSqlite) but with synchronous=NORMAL (a power cut may lose
   * the last few charges, which is harmless for counters), and closes it on `close()`. Given an open Database,
   * creates the tables there and leaves its settings and its lifetime to the owner.
   */
  constructor(database: string | Database.Database) {
    this.#ownsDatabase = typeof database === 'string';
    if (typeof database === 'string') {
      this.#db = openSqlite(database, { migrations: LIMITER_MIGRATIONS, synchronous: 'NORMAL' });
    } else {
      this.#db = database;
      this.#db.exec(SCHEMA);
    }
    this.#selectSent = this.#db
      .prepare<[string, number], number>(
        'SELECT COALESCE(SUM(recipients), 0) FROM send_quota_minutes WHERE key = ? AND minute >= ?',
      )
      .pluck();
    this.#selectTat = this.#db.prepare<[string], number>('SELECT tat FROM send_rate_tat WHERE key = ?').pluck();
    this.#upsertTat = this.#db.prepare<[string, number]>(
      'INSERT INTO send_rate_tat (key, tat) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET tat = excluded.tat',
    );
    this.#addQuotaRecipients = this.#db.prepare<[string, number, number]>(
      `INSERT INTO send_quota_minutes (key, minute, recipients) VALUES (?, ?, ?)
       ON CONFLICT (key, minute) DO UPDATE SET recipients = recipients + excluded.recipients`,
    );
    this.#deleteMinutesBefore = this.#db.prepare<[number]>('DELETE FROM send_quota_minutes WHERE minute < ?');
    this.#acquireTransaction = this.#db.transaction((batch: readonly PendingAcquire[]) => batch.map(({ request, now }) => this.#acquireNow(request, now)));
  }

  acquire(request: AcquireRequest): Promise<AcquireResult> {
    return new Promise((resolve, reject) => {
      if (this.#pending.push({ request, now: request.now ?? Date.now(), resolve, reject }) === 1) queueMicrotask(() => this.#acquirePending());
    });
  }

  /**
   * The checks asked for in one turn of the event loop (a session worker's calls arrive in batches) are decided in
   * order in one transaction: one lock and one WAL commit for all of them instead of one each.
   */
  #acquirePending(): void {
    const batch = this.#pending;
    this.#pending = [];
    let decisions: AcquireResult[];
    try {
      decisions = this.#acquireTransaction.immediate(batch);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    batch.forEach((pending, index) => pending.resolve(decisions[index]!));
  }

  async sentLast24Hours(key: string, now = Date.now()): Promise<number> {
    return this.#selectSent.get(key, oldestCountedMinute(now)) ?? 0;
  }

  async close(): Promise<void> {
    if (this.#ownsDatabase) this.#db.close();
  }

  #acquireNow(request: AcquireRequest, now: number): AcquireResult {
    this.#pruneOncePerMinute(now);
    const sent = this.#selectSent.get(request.key, oldestCountedMinute(now)) ?? 0;
    const decision = decideAcquire(request, now, sent, this.#selectTat.get(request.key));
    if (!decision.ok) return decision;
    if (decision.tat !== undefined) this.#upsertTat.run(request.key, decision.tat);
    if (request.quotaRecipients > 0) this.#addQuotaRecipients.run(request.key, minuteOf(now), request.quotaRecipients);
    return { ok: true };
  }

  // Runs inside the acquire transaction; each process prunes for every key about once a minute.
  #pruneOncePerMinute(now: number): void {
    const minute = minuteOf(now);
    if (minute <= this.#prunedAtMinute) return;
    this.#prunedAtMinute = minute;
    this.#deleteMinutesBefore.run(oldestCountedMinute(now));
  }
}
