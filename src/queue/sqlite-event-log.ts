import type { MailEvent, StoredMailEvent } from '../events/mail-event.js';
import type { SqliteDatabase } from '../store/sqlite/database.js';
import { withoutFsync } from '../store/sqlite/without-fsync.js';
import type { EventLog } from './event-log.js';

interface EventRow {
  seq: number;
  event: string;
}

/**
 * How many recently read batches are kept parsed. The consumers of a process wake on the same commit and read from the
 * same cursor position; each would otherwise select and parse every event again.
 */
const RECENT_BATCHES = 8;

/** The event log in queue.db (tables mail_events and mail_event_cursors). */
export class SqliteEventLog implements EventLog {
  private readonly listeners: Array<() => void> = [];
  private readonly registered = new Set<string>();
  /** Batches by `after:limit`, oldest first. A batch read once stays a true prefix: a later commit only adds larger seqs. */
  private readonly recentBatches = new Map<string, StoredMailEvent[]>();
  private readonly selectCursor;
  private readonly insertEvent;
  private readonly selectAfter;
  private readonly upsertCursor;
  private readonly registerCursor;
  private readonly countAfter;
  private readonly deleteBefore;
  private readonly appendAll;
  private readonly startCursor;
  private readonly selectCursors;
  private readonly deleteCursor;

  constructor(private readonly db: SqliteDatabase) {
    this.insertEvent = db.prepare(
      `INSERT INTO mail_events (id, type, message_id, account_id, at, event) VALUES (@id, @type, @messageId, @accountId, @at, @event)
       ON CONFLICT (id) DO NOTHING`,
    );
    this.selectCursor = db.prepare('SELECT seq FROM mail_event_cursors WHERE consumer = ?').pluck();
    this.selectAfter = db.prepare('SELECT seq, event FROM mail_events WHERE seq > ? ORDER BY seq LIMIT ?');
    this.upsertCursor = db.prepare(
      `INSERT INTO mail_event_cursors (consumer, seq) VALUES (?, ?) ON CONFLICT (consumer) DO UPDATE SET seq = MAX(seq, excluded.seq)`,
    );
    this.registerCursor = db.prepare('INSERT INTO mail_event_cursors (consumer, seq) VALUES (?, 0) ON CONFLICT (consumer) DO NOTHING');
    this.countAfter = db
      .prepare(`SELECT COUNT(*) FROM mail_events WHERE seq > COALESCE((SELECT seq FROM mail_event_cursors WHERE consumer = ?), 0)`)
      .pluck();
    this.deleteBefore = db.prepare(
      `DELETE FROM mail_events WHERE at < ? AND seq <= COALESCE((SELECT MIN(seq) FROM mail_event_cursors), 0)`,
    );
    // Without an index on `at`, a scan: it runs once per new consumer.
    this.startCursor = db.prepare(
      `INSERT INTO mail_event_cursors (consumer, seq)
       VALUES (@consumer, COALESCE((SELECT MIN(seq) FROM mail_events WHERE at >= @from) - 1, (SELECT MAX(seq) FROM mail_events), 0))
       ON CONFLICT (consumer) DO NOTHING`,
    );
    this.selectCursors = db.prepare('SELECT consumer, seq FROM mail_event_cursors ORDER BY consumer');
    this.deleteCursor = db.prepare('DELETE FROM mail_event_cursors WHERE consumer = ?');
    this.appendAll = db.transaction((events: readonly MailEvent[]) => this.appendWithin(events));
  }

  /** Appends inside the caller's open transaction; the caller calls `appended()` after its commit. */
  appendWithin(events: readonly MailEvent[]): void {
    for (const event of events) {
      this.insertEvent.run({ id: event.id, type: event.type, messageId: event.messageId, accountId: event.accountId, at: event.at, event: JSON.stringify(event) });
    }
  }

  /** Tells the listeners that a commit appended events. */
  appended(): void {
    for (const listener of this.listeners) listener();
  }

  append(events: readonly MailEvent[]): void {
    if (events.length === 0) return;
    this.appendAll.immediate(events);
    this.appended();
  }

  read(consumer: string, limit: number): StoredMailEvent[] {
    if (!this.registered.has(consumer)) {
      this.registerCursor.run(consumer);
      this.registered.add(consumer);
    }
    const after = (this.selectCursor.get(consumer) as number | undefined) ?? 0;
    const key = `${after}:${limit}`;
    const recent = this.recentBatches.get(key) ?? [];
    if (recent.length === limit) return recent;
    // A kept batch that was short takes what was committed since (parsed once too).
    const batch = recent.concat(this.parsedAfter(recent.at(-1)?.seq ?? after, limit - recent.length));
    if (batch.length === 0 || batch.length === recent.length) return recent;
    this.recentBatches.delete(key);
    this.recentBatches.set(key, batch);
    if (this.recentBatches.size > RECENT_BATCHES) this.recentBatches.delete(this.recentBatches.keys().next().value!);
    return batch;
  }

  private parsedAfter(seq: number, limit: number): StoredMailEvent[] {
    return (this.selectAfter.all(seq, limit) as EventRow[]).map((row) => ({ ...(JSON.parse(row.event) as MailEvent), seq: row.seq }));
  }

  advance(consumer: string, seq: number): void {
    // A cursor needs no fsync: lost in a power cut, it only makes its consumer see some events again (at least once).
    withoutFsync(this.db, () => this.advanceWithin(consumer, seq));
  }

  /** Moves the cursor inside the caller's open transaction. */
  advanceWithin(consumer: string, seq: number): void {
    this.upsertCursor.run(consumer, seq);
  }

  backlog(consumer: string): number {
    return this.countAfter.get(consumer) as number;
  }

  start(consumer: string, from: number): void {
    this.startCursor.run({ consumer, from });
  }

  consumers(): Array<{ consumer: string; seq: number }> {
    return this.selectCursors.all() as Array<{ consumer: string; seq: number }>;
  }

  drop(consumer: string): void {
    this.deleteCursor.run(consumer);
  }

  onAppended(listener: () => void): void {
    this.listeners.push(listener);
  }

  prune(before: number): number {
    // A consumer registered later starts at the log's start, which pruning moves.
    this.recentBatches.clear();
    return this.deleteBefore.run(before).changes;
  }
}
