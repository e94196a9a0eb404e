import { join } from 'node:path';
import { migrate, openSqlite, type SqliteDatabase } from '../store/sqlite/database.js';
import type { QueueStore } from './queue-store.js';
import type { QueueFilter, QueuedMessage, QueuedMessageSummary } from './queued-message.js';

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
];

interface MessageRow {
  id: string;
  account_id: string;
  access_key_id: string;
  mail_from: string;
  header: Buffer;
  body_file: string;
  size: number;
  received_at: number;
  metadata: string;
  recipients: string;
}

const RECIPIENTS = `(SELECT json_group_array(recipient) FROM (SELECT recipient FROM deliveries WHERE message_id = m.id ORDER BY id)) AS recipients`;

export const recipientDomain = (address: string): string => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export class SqliteQueueStore implements QueueStore {
  private readonly insertMessage;
  private readonly insertDelivery;
  private readonly insertAll;

  private constructor(private readonly db: SqliteDatabase) {
    this.insertMessage = db.prepare(
      `INSERT INTO messages (id, account_id, access_key_id, mail_from, header, body_file, size, received_at, metadata)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertDelivery = db.prepare('INSERT INTO deliveries (message_id, recipient, domain, next_attempt_at) VALUES (?, ?, ?, ?)');
    this.insertAll = db.transaction((messages: readonly QueuedMessage[]) => {
      for (const message of messages) {
        const receivedAt = message.receivedAt.getTime();
        this.insertMessage.run(
          message.id,
          message.accountId,
          message.accessKeyId,
          message.mailFrom,
          message.header,
          message.bodyFile,
          message.size,
          receivedAt,
          JSON.stringify(message.metadata),
        );
        for (const recipient of message.recipients) this.insertDelivery.run(message.id, recipient, recipientDomain(recipient), receivedAt);
      }
    });
  }

  static open(dataDir: string): SqliteQueueStore {
    const db = openSqlite(join(dataDir, 'queue.db'));
    migrate(db, QUEUE_MIGRATIONS);
    return new SqliteQueueStore(db);
  }

  insert(messages: readonly QueuedMessage[]): void {
    this.insertAll.immediate(messages);
  }

  get(id: string): QueuedMessage | null {
    const row = this.db.prepare(`SELECT m.*, ${RECIPIENTS} FROM messages m WHERE m.id = ?`).get(id) as MessageRow | undefined;
    if (!row) return null;
    return {
      id: row.id,
      accountId: row.account_id,
      accessKeyId: row.access_key_id,
      mailFrom: row.mail_from,
      recipients: JSON.parse(row.recipients) as string[],
      header: row.header,
      bodyFile: row.body_file,
      size: row.size,
      receivedAt: new Date(row.received_at),
      metadata: JSON.parse(row.metadata),
    };
  }

  list(filter: QueueFilter = {}): QueuedMessageSummary[] {
    const where = filter.accountId ? 'WHERE m.account_id = @accountId' : '';
    const rows = this.db
      .prepare(`SELECT m.id, m.account_id, m.mail_from, m.size, m.received_at, ${RECIPIENTS} FROM messages m ${where} ORDER BY m.received_at, m.id LIMIT @limit`)
      .all(filter.accountId ? { accountId: filter.accountId, limit: filter.limit ?? -1 } : { limit: filter.limit ?? -1 }) as MessageRow[];
    return rows.map((row) => ({
      id: row.id,
      accountId: row.account_id,
      mailFrom: row.mail_from,
      recipients: JSON.parse(row.recipients) as string[],
      size: row.size,
      receivedAt: new Date(row.received_at),
    }));
  }

  bodyFileNames(): Set<string> {
    return new Set((this.db.prepare('SELECT body_file FROM messages').pluck().all() as string[]));
  }

  close(): void {
    this.db.close();
  }
}
