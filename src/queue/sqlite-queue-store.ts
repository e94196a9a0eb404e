import { join } from 'node:path';
import { openSqlite, prepared, type SqliteDatabase } from '../store/sqlite/database.js';
import { WalSync } from '../store/sqlite/wal-sync.js';
import { randomBytes } from 'node:crypto';
import { domainOf } from '../message/addresses.js';
import { messageIdTimePrefix } from '../message/message-id.js';
import type { QueueStore } from './queue-store.js';
import type { ClaimedDelivery, DeliveryLease } from './delivery-records.js';
import type { DeliveryDetails, DisplayState, MessageDetails, MessageMetadata, QueueFilter, QueuedMessage, QueuedMessageSummary } from './queued-message.js';
import type { MailEvent } from '../events/mail-event.js';
import { SqliteDeliveryLeases } from './sqlite-delivery-leases.js';
import { SqliteEventLog } from './sqlite-event-log.js';
import { SqliteSendStatistics } from './sqlite-send-statistics.js';
import { SqliteQueueHealth } from './sqlite-queue-health.js';
import { SqliteFeedbackRecords } from './sqlite-feedback-records.js';
import type { MessageRow } from './sqlite-message-row.js';
import { SqliteQueueOperations } from './sqlite-queue-operations.js';
import { deliverySelection } from './sqlite-queue-selection.js';
import { SqliteSourceVolume } from './sqlite-source-volume.js';

/** Schema of queue.db, one entry per version; append, never edit a released entry. */
const QUEUE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE messages (
     id TEXT PRIMARY KEY,
     account_id TEXT NOT NULL,
     access_key_id TEXT NOT NULL,
     mail_from TEXT NOT NULL,
     header BLOB NOT NULL,
     body_file TEXT NOT NULL,
     size INTEGER NOT NULL,
     received_at INTEGER NOT NULL,
     metadata TEXT NOT NULL
   );
   CREATE INDEX messages_account ON messages(account_id, received_at);
   CREATE TABLE deliveries (
     id INTEGER PRIMARY KEY,
     message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
     recipient TEXT NOT NULL,
     domain TEXT NOT NULL,
     state TEXT NOT NULL DEFAULT 'queued',
     attempts INTEGER NOT NULL DEFAULT 0,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,
     last_response TEXT,
     UNIQUE (message_id, recipient)
   );
   CREATE INDEX deliveries_due ON deliveries(state, next_attempt_at);
   CREATE INDEX deliveries_message ON deliveries(message_id);`,
  // Delivery: leases, per-recipient results (the fields of SES delivery and bounce notifications), the DKIM
  // signature computed once per message, warm-up volume per source address, the return-path key.
  `ALTER TABLE messages ADD COLUMN dkim_signature BLOB;
   ALTER TABLE messages ADD COLUMN completed_at INTEGER;
   ALTER TABLE deliveries ADD COLUMN lease_owner TEXT;
   ALTER TABLE deliveries ADD COLUMN source_ip TEXT;
   ALTER TABLE deliveries ADD COLUMN reporting_mta TEXT;
   ALTER TABLE deliveries ADD COLUMN mx_host TEXT;
   ALTER TABLE deliveries ADD COLUMN remote_mta TEXT;
   ALTER TABLE deliveries ADD COLUMN bounce_type TEXT;
   ALTER TABLE deliveries ADD COLUMN bounce_sub_type TEXT;
   ALTER TABLE deliveries ADD COLUMN category TEXT;
   ALTER TABLE deliveries ADD COLUMN first_attempt_at INTEGER;
   ALTER TABLE deliveries ADD COLUMN last_attempt_at INTEGER;
   ALTER TABLE deliveries ADD COLUMN finished_at INTEGER;
   CREATE INDEX deliveries_domain ON deliveries(domain, state);
   CREATE TABLE source_volume (
     address TEXT NOT NULL,
     day TEXT NOT NULL,
     recipients INTEGER NOT NULL,
     PRIMARY KEY (address, day)
   ) WITHOUT ROWID;
   CREATE TABLE source_warmup (
     address TEXT PRIMARY KEY,
     started_on TEXT NOT NULL
   ) WITHOUT ROWID;
   CREATE TABLE secrets (
     name TEXT PRIMARY KEY,
     value BLOB NOT NULL
   ) WITHOUT ROWID;`,
  // Small bodies stored in the row (body_file '' then), so one group commit makes a message durable.
  `ALTER TABLE messages ADD COLUMN body BLOB;`,
  // The event log (queue/event-log.ts): events appended in the commit that caused them, read by consumers' cursors.
  `CREATE TABLE mail_events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     type TEXT NOT NULL,
     message_id TEXT NOT NULL,
     account_id TEXT NOT NULL,
     at INTEGER NOT NULL,
     event TEXT NOT NULL
   );
   CREATE INDEX mail_events_message ON mail_events(message_id);
   CREATE TABLE mail_event_cursors (
     consumer TEXT PRIMARY KEY,
     seq INTEGER NOT NULL
   ) WITHOUT ROWID;`,
  // Sending statistics in 15-minute buckets per account and configuration set ('' for none): SES's GetSendStatistics
  // counts, and the counts its reputation rates are computed from (no simulator recipients, no suppression bounces).
  `CREATE TABLE send_statistics (
     account_id TEXT NOT NULL,
     configuration_set TEXT NOT NULL,
     bucket INTEGER NOT NULL,
     delivery_attempts INTEGER NOT NULL DEFAULT 0,
     bounces INTEGER NOT NULL DEFAULT 0,
     complaints INTEGER NOT NULL DEFAULT 0,
     rejects INTEGER NOT NULL DEFAULT 0,
     reputation_sent INTEGER NOT NULL DEFAULT 0,
     reputation_bounces INTEGER NOT NULL DEFAULT 0,
     reputation_complaints INTEGER NOT NULL DEFAULT 0,
     PRIMARY KEY (account_id, configuration_set, bucket)
   ) WITHOUT ROWID;`,
  // The address each delivery's session left from (SES's ses:outgoing-ip auto-tag).
  `ALTER TABLE deliveries ADD COLUMN outgoing_ip TEXT;`,
  // The index of UNIQUE (message_id, recipient) serves every lookup by message_id (and the cascade of a deleted
  // message): a second index on message_id alone only cost each delivery's insert and removal a B-tree update.
  `DROP INDEX deliveries_message;`,
];

/**
 * Page size of a new queue.db. Bodies up to 128 KiB ride in their message's row (queue/body-sink.ts), as overflow
 * pages: a 100 KB body takes 7 pages of 16 KiB instead of 25 of 4 KiB, so a quarter of the WAL frames, page-cache
 * entries and system calls to write it, checkpoint it into the file and free it. Small messages do not pay for the
 * larger pages (the 2 KB workload ran as fast either way). A queue.db made before keeps its 4 KiB pages.
 */
const QUEUE_PAGE_SIZE = 16 * 1024;

/** A message row with its recipients and their states (JSON) as the listing queries add them. */
interface ListedMessageRow extends MessageRow {
  recipients: string;
  states: string;
}

interface DeliveryRow {
  recipient: string;
  display_state: DisplayState;
  attempts: number;
  next_attempt_at: number;
  first_attempt_at: number | null;
  last_attempt_at: number | null;
  finished_at: number | null;
  last_response: string | null;
  remote_mta: string | null;
  mx_host: string | null;
  source_ip: string | null;
  outgoing_ip: string | null;
  reporting_mta: string | null;
  bounce_type: string | null;
  bounce_sub_type: string | null;
  category: string | null;
}

const RECIPIENTS = `(SELECT json_group_array(recipient) FROM (SELECT recipient FROM deliveries WHERE message_id = m.id ORDER BY id)) AS recipients`;
const DISPLAY_STATE = `CASE WHEN state = 'queued' AND attempts > 0 THEN 'deferred' ELSE state END`;
const STATES = `(SELECT json_group_object(display_state, n) FROM (SELECT ${DISPLAY_STATE} AS display_state, COUNT(*) AS n FROM deliveries WHERE message_id = m.id GROUP BY 1)) AS states`;
const RETURN_PATH_KEY = 'return-path';
const INSTANCE_ID = 'instance-id';

const date = (value: number | null): Date | null => (value === null ? null : new Date(value));

export class SqliteQueueStore implements QueueStore {
  readonly leases: SqliteDeliveryLeases;
  readonly events: SqliteEventLog;
  readonly statistics: SqliteSendStatistics;
  readonly operations: SqliteQueueOperations;
  readonly sources: SqliteSourceVolume;
  readonly health: SqliteQueueHealth;
  readonly feedback: SqliteFeedbackRecords;
  private readonly insertMessage;
  private readonly insertDelivery;
  private readonly insertLeasedDelivery;
  private readonly insertAll;

  private readonly walSync: WalSync;

  private constructor(private readonly db: SqliteDatabase) {
    this.walSync = new WalSync(`${db.name}-wal`);
    this.events = new SqliteEventLog(db);
    this.statistics = new SqliteSendStatistics(db, this.events);
    this.leases = new SqliteDeliveryLeases(db, this.events, this.walSync);
    this.operations = new SqliteQueueOperations(db);
    this.sources = new SqliteSourceVolume(db);
    this.health = new SqliteQueueHealth(db);
    this.feedback = new SqliteFeedbackRecords(db, this.events);
    this.insertMessage = db.prepare(
      `INSERT INTO messages (id, account_id, access_key_id, mail_from, header, body, body_file, size, received_at, metadata, dkim_signature)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertDelivery = db.prepare('INSERT INTO deliveries (message_id, recipient, domain, next_attempt_at) VALUES (?, ?, ?, ?)');
    this.insertLeasedDelivery = db.prepare(
      `INSERT INTO deliveries (message_id, recipient, domain, next_attempt_at, state, lease_owner, lease_until) VALUES (?, ?, ?, ?, 'leased', ?, ?)`,
    );
    this.insertAll = db.transaction((messages: readonly QueuedMessage[], events: readonly MailEvent[], lease: DeliveryLease | null) => {
      this.events.appendWithin(events);
      const leased: ClaimedDelivery[] = [];
      for (const message of messages) {
        const receivedAt = message.receivedAt.getTime();
        this.insertMessage.run(
          message.id,
          message.accountId,
          message.accessKeyId,
          message.mailFrom,
          message.header,
          message.body,
          message.bodyFile,
          message.size,
          receivedAt,
          JSON.stringify(message.metadata),
          message.dkimSignature ?? null,
        );
        for (const recipient of message.recipients) {
          const domain = domainOf(recipient);
          if (lease) {
            const { lastInsertRowid } = this.insertLeasedDelivery.run(message.id, recipient, domain, receivedAt, lease.owner, lease.until);
            leased.push({ id: Number(lastInsertRowid), messageId: message.id, recipient, domain, attempts: 0, sourceIp: null });
          } else this.insertDelivery.run(message.id, recipient, domain, receivedAt);
        }
      }
      return leased;
    });
  }

  static open(dataDir: string): SqliteQueueStore {
    return new SqliteQueueStore(openSqlite(join(dataDir, 'queue.db'), { migrations: QUEUE_MIGRATIONS, pageSize: QUEUE_PAGE_SIZE }));
  }

  insert(messages: readonly QueuedMessage[], events: readonly MailEvent[] = [], lease: DeliveryLease | null = null): Promise<ClaimedDelivery[]> {
    return this.walSync.commit(this.db, () => this.insertAll.immediate(messages, events, lease)).then((leased) => {
      if (events.length > 0) this.events.appended();
      return leased;
    });
  }

  get(id: string): QueuedMessage | null {
    const row = this.db.prepare(`SELECT m.*, ${RECIPIENTS} FROM messages m WHERE m.id = ?`).get(id) as ListedMessageRow | undefined;
    if (!row) return null;
    return {
      id: row.id,
      accountId: row.account_id,
      accessKeyId: row.access_key_id,
      mailFrom: row.mail_from,
      recipients: JSON.parse(row.recipients) as string[],
      header: row.header,
      body: row.body,
      bodyFile: row.body_file,
      size: row.size,
      receivedAt: new Date(row.received_at),
      metadata: JSON.parse(row.metadata),
    };
  }

  list(filter: QueueFilter = {}): QueuedMessageSummary[] {
    const conditions: string[] = [];
    const selection = deliverySelection({ accountId: filter.accountId, domain: filter.domain });
    if (selection) conditions.push(`m.id IN (SELECT message_id FROM deliveries WHERE ${selection.sql})`);
    if (filter.pendingOnly) conditions.push('m.completed_at IS NULL');
    const params = { ...selection?.params, limit: filter.limit ?? -1 };
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    const rows = this.db
      .prepare(`SELECT m.id, m.account_id, m.mail_from, m.size, m.received_at, ${RECIPIENTS}, ${STATES} FROM messages m ${where} ORDER BY m.received_at, m.id LIMIT @limit`)
      .all(params) as ListedMessageRow[];
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      mailFrom: row.mail_from,
      recipients: JSON.parse(row.recipients) as string[],
      size: row.size,
      receivedAt: new Date(row.received_at),
      states: JSON.parse(row.states) as QueuedMessageSummary['states'],
    }));
  }

  details(id: string): MessageDetails | null {
    const message = this.db.prepare('SELECT id, account_id, mail_from, size, received_at, completed_at, metadata FROM messages WHERE id = ?').get(id) as ListedMessageRow | undefined;
    if (!message) return null;
    const rows = this.db.prepare(`SELECT *, ${DISPLAY_STATE} AS display_state FROM deliveries WHERE message_id = ? ORDER BY id`).all(id) as DeliveryRow[];
    const deliveries = rows.map(
      (row): DeliveryDetails => ({
        recipient: row.recipient,
        state: row.display_state,
        attempts: row.attempts,
        nextAttemptAt: row.display_state === 'queued' || row.display_state === 'deferred' ? new Date(row.next_attempt_at) : null,
        firstAttemptAt: date(row.first_attempt_at),
        lastAttemptAt: date(row.last_attempt_at),
        finishedAt: date(row.finished_at),
        processingTimeMillis: row.finished_at === null ? null : row.finished_at - message.received_at,
        response: row.last_response,
        remoteMta: row.remote_mta,
        mxHost: row.mx_host,
        sourceIp: row.source_ip,
        outgoingIp: row.outgoing_ip,
        reportingMta: row.reporting_mta,
        bounceType: row.bounce_type,
        bounceSubType: row.bounce_sub_type,
        category: row.category,
      }),
    );
    return {
      id: message.id,
      accountId: message.account_id,
      mailFrom: message.mail_from,
      size: message.size,
      receivedAt: new Date(message.received_at),
      completedAt: date(message.completed_at),
      tags: (JSON.parse(message.metadata) as MessageMetadata).tags,
      deliveries,
    };
  }

  removeCompleted(before: number, limit: number): number {
    // Ids begin with their acceptance time, and a message is accepted before it is complete: the primary key's range
    // finds the candidates without an index on completed_at.
    const sql = 'DELETE FROM messages WHERE id IN (SELECT id FROM messages WHERE id < ? AND completed_at < ? LIMIT ?)';
    return prepared(this.db, sql).run(messageIdTimePrefix(before), before, limit).changes;
  }

  bodyFileNames(): Set<string> {
    return new Set(this.db.prepare("SELECT body_file FROM messages WHERE completed_at IS NULL AND body_file != ''").pluck().all() as string[]);
  }

  returnPathKey(): Buffer {
    return this.secret(RETURN_PATH_KEY, 32);
  }

  instanceId(): string {
    return this.secret(INSTANCE_ID, 8).toString('hex');
  }

  /** A random value of `bytes` bytes kept under `name`, created on first use. */
  private secret(name: string, bytes: number): Buffer {
    this.db.prepare('INSERT OR IGNORE INTO secrets (name, value) VALUES (?, ?)').run(name, randomBytes(bytes));
    return this.db.prepare('SELECT value FROM secrets WHERE name = ?').pluck().get(name) as Buffer;
  }

  close(): void {
    this.db.close();
    this.walSync.close();
  }
}
