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
  event: MailEvent;
}

/**
 * How many of the latest committed events this process keeps parsed. Its consumers follow the log closely and read
 * from here instead of selecting and parsing what this process has just written; a cursor further behind reads from
 * the table.
 */
const TAIL_EVENTS = 1024;

/** The event log in queue.db (tables mail_events and mail_event_cursors). */
export class SqliteEventLog implements EventLog {
  private readonly listeners: Array<() => void> = [];
  private readonly registered = new Set<string>();
  /**
   * The latest events this process appended and saw committed, parsed, by ascending seq: every row the table has from
   * seq `coveredFrom` to `coveredTo`. Seqs may skip (an append whose id was there already uses one up).
   */
  private tail: StoredMailEvent[] = [];
  private coveredFrom = Infinity;
  private coveredTo = -Infinity;
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
      if (inserted.changes === 1) this.unconfirmed.push({ seq: Number(inserted.lastInsertRowid), event });
    }
    if (this.unconfirmed.length > 0 && !this.confirmScheduled) {
      this.confirmScheduled = true;
      queueMicrotask(() => this.confirm());
    }
  }

  /**
   * Moves what the last transactions appended to the tail, if they committed. By now they have ended (better-sqlite3's
   * transactions are synchronous): one that rolled back left no rows, or left its seqs to later events, so an event
   * counts as committed only where the table holds its id at its seq. A row of another process's (the CLI's) in the
   * range read starts the tail again after it.
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
    const appended = new Map(this.unconfirmed.map((event) => [event.seq, event]));
    this.unconfirmed = [];
    try {
      this.extendTail(appended);
    } catch {
      // The table could not be read (an I/O error): consumers read it themselves, and report what fails there.
      this.forgetTail();
    }
  }

  private extendTail(appended: Map<number, Unconfirmed>): void {
    const seqs = [...appended.keys()];
    const low = Math.min(...seqs);
    const high = Math.max(...seqs);
    if (this.coveredFrom > this.coveredTo || low < this.coveredFrom) {
      this.forgetTail();
      this.coveredFrom = low;
      this.coveredTo = low - 1;
    } else if (low <= this.coveredTo) {
      // Seqs given again after a rollback: what the tail held from there on is not in the table.
      while (this.tail.length > 0 && this.tail.at(-1)!.seq >= low) this.tail.pop();
      this.coveredTo = low - 1;
    }
    const rows = this.selectIds.all(this.coveredTo + 1, high) as Array<{ seq: number; id: string }>;
    for (const row of rows) {
      const mine = appended.get(row.seq);
      // The object appended, not its JSON parsed again: events are plain JSON data (mail-event.ts), and consumers do
      // not change what they read.
      if (mine?.event.id === row.id) this.tail.push({ ...mine.event, seq: row.seq });
      else {
        this.tail = [];
        this.coveredFrom = row.seq + 1;
      }
    }
    this.coveredTo = high;
    if (this.tail.length > TAIL_EVENTS) {
      this.tail = this.tail.slice(-TAIL_EVENTS);
      this.coveredFrom = this.tail[0]!.seq;
    }
  }

  private forgetTail(): void {
    this.tail = [];
    this.coveredFrom = Infinity;
    this.coveredTo = -Infinity;
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
    const fromTail = this.tailAfter(after, limit);
    if (!fromTail) return this.parsedAfter(after, limit);
    if (fromTail.length === limit) return fromTail;
    // Beyond the tail only another process's events can be, committed since this process last appended.
    return fromTail.concat(this.parsedAfter(Math.max(after, this.coveredTo), limit - fromTail.length));
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

  /** Up to `limit` events after `after` from the tail; null when the tail does not cover the seq after `after`. */
  private tailAfter(after: number, limit: number): StoredMailEvent[] | null {
    if (after + 1 < this.coveredFrom || after + 1 > this.coveredTo) return null;
    let low = 0;
    let high = this.tail.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.tail[middle]!.seq <= after) low = middle + 1;
      else high = middle;
    }
    return this.tail.slice(low, low + limit);
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
    this.forgetTail();
    return this.deleteBefore.run(before).changes;
  }
}
