import type { MailEvent, StoredMailEvent } from '../events/mail-event.js';
import type { SqliteDatabase } from '../store/sqlite/database.js';
import { withoutFsync } from '../store/sqlite/without-fsync.js';
import type { EventLog } from './event-log.js';

interface EventRow {
  seq: number;
  event: string;
}

/** An event appended in a transaction that is not yet known to have committed. */
interface Unconfirmed {
  seq: number;
  id: string;
  json: string;
}

/**
 * How many of the latest committed events this process keeps parsed. Its consumers follow the log closely and read
 * from here instead of selecting and parsing what this process has just written; a cursor further behind reads from
 * the table.
 */
const TAIL_EVENTS = 4096;

/** The event log in queue.db (tables mail_events and mail_event_cursors). */
export class SqliteEventLog implements EventLog {
  private readonly listeners: Array<() => void> = [];
  private readonly registered = new Set<string>();
  /** The latest events this process appended and saw committed, parsed, by ascending seq. */
  private tail: StoredMailEvent[] = [];
  private unconfirmed: Unconfirmed[] = [];
  private confirmScheduled = false;
  /** Cursors as this process last read or moved them (one engine runs per data directory). */
  private readonly cursors = new Map<string, number>();
  private readonly selectCursor;
  private readonly insertEvent;
  private readonly selectAfter;
  private readonly selectIds;
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
    this.selectIds = db.prepare('SELECT seq, id FROM mail_events WHERE seq BETWEEN ? AND ?');
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
      const json = JSON.stringify(event);
      const inserted = this.insertEvent.run({ id: event.id, type: event.type, messageId: event.messageId, accountId: event.accountId, at: event.at, event: json });
      if (inserted.changes === 1) this.unconfirmed.push({ seq: Number(inserted.lastInsertRowid), id: event.id, json });
    }
    if (this.unconfirmed.length > 0 && !this.confirmScheduled) {
      this.confirmScheduled = true;
      queueMicrotask(() => this.confirm());
    }
  }

  /**
   * Moves what the last transactions appended to the tail, if they committed. By now they have ended (better-sqlite3's
   * transactions are synchronous): one that rolled back left no rows, or left its seqs to later events, so an event
   * counts as committed only where the table holds its id at its seq.
   */
  private confirm(): void {
    this.confirmScheduled = false;
    // Closed (at shutdown) since: nothing reads the tail any more.
    if (!this.db.open) this.unconfirmed = [];
    if (this.unconfirmed.length === 0) return;
    if (this.db.inTransaction) {
      this.confirmScheduled = true;
      setImmediate(() => this.confirm());
      return;
    }
    const appended = this.unconfirmed;
    this.unconfirmed = [];
    const seqs = appended.map((event) => event.seq);
    const committed = new Map((this.selectIds.all(Math.min(...seqs), Math.max(...seqs)) as Array<{ seq: number; id: string }>).map((row) => [row.seq, row.id]));
    for (const { seq, id, json } of appended) {
      if (committed.get(seq) !== id) continue;
      while (this.tail.length > 0 && this.tail.at(-1)!.seq >= seq) this.tail.pop();
      this.tail.push({ ...(JSON.parse(json) as MailEvent), seq });
    }
    if (this.tail.length > TAIL_EVENTS) this.tail = this.tail.slice(-TAIL_EVENTS);
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
    const after = this.cursor(consumer);
    // What was committed in this turn of the event loop joins the tail first, so the read does not stop short of it.
    this.confirm();
    return this.tailAfter(after, limit) ?? this.parsedAfter(after, limit);
  }

  private cursor(consumer: string): number {
    const known = this.cursors.get(consumer);
    if (known !== undefined) return known;
    if (!this.registered.has(consumer)) {
      this.registerCursor.run(consumer);
      this.registered.add(consumer);
    }
    const seq = (this.selectCursor.get(consumer) as number | undefined) ?? 0;
    this.cursors.set(consumer, seq);
    return seq;
  }

  /**
   * The events after `after` from the tail, as far as their seqs run on without a gap (a gap holds events another
   * process appended, which only the table has); null when the tail does not hold the next event.
   */
  private tailAfter(after: number, limit: number): StoredMailEvent[] | null {
    const first = this.tail[0];
    if (!first) return null;
    const start = after + 1 - first.seq;
    if (start < 0 || start >= this.tail.length || this.tail[start]!.seq !== after + 1) return null;
    let end = start + 1;
    while (end < this.tail.length && end - start < limit && this.tail[end]!.seq === this.tail[end - 1]!.seq + 1) end++;
    return this.tail.slice(start, end);
  }

  private parsedAfter(seq: number, limit: number): StoredMailEvent[] {
    return (this.selectAfter.all(seq, limit) as EventRow[]).map((row) => ({ ...(JSON.parse(row.event) as MailEvent), seq: row.seq }));
  }

  advance(consumer: string, seq: number): void {
    // A cursor needs no fsync: lost in a power cut, it only makes its consumer see some events again (at least once).
    withoutFsync(this.db, () => this.upsertCursor.run(consumer, seq));
    const known = this.cursors.get(consumer);
    if (known !== undefined) this.cursors.set(consumer, Math.max(known, seq));
  }

  /** Moves the cursor inside the caller's open transaction (which may yet roll back: the cursor is read again). */
  advanceWithin(consumer: string, seq: number): void {
    this.upsertCursor.run(consumer, seq);
    this.cursors.delete(consumer);
  }

  backlog(consumer: string): number {
    return this.countAfter.get(consumer) as number;
  }

  start(consumer: string, from: number): void {
    this.startCursor.run({ consumer, from });
    this.cursors.delete(consumer);
  }

  consumers(): Array<{ consumer: string; seq: number }> {
    return this.selectCursors.all() as Array<{ consumer: string; seq: number }>;
  }

  drop(consumer: string): void {
    this.deleteCursor.run(consumer);
    this.cursors.delete(consumer);
  }

  onAppended(listener: () => void): void {
    this.listeners.push(listener);
  }

  prune(before: number): number {
    // A consumer registered later starts at the log's start, which pruning moves.
    this.tail = [];
    return this.deleteBefore.run(before).changes;
  }
}
