import { messageForEvents } from '../events/producers/message-for-events.js';
import type { MessageForEvents } from '../events/event-builders.js';
import type { SqliteDatabase } from '../store/sqlite/database.js';
import type { FeedbackBatch, FeedbackRecords, ReturnPathDelivery } from './feedback-records.js';
import type { MessageMetadata } from './queued-message.js';
import type { SqliteEventLog } from './sqlite-event-log.js';

interface EventMessageRow {
  id: string;
  account_id: string;
  mail_from: string;
  received_at: number;
  metadata: string;
  recipients: string;
}

/** Feedback intake's reads and writes in queue.db. */
export class SqliteFeedbackRecords implements FeedbackRecords {
  private readonly selectDelivery;
  private readonly selectMessage;
  private readonly noteBounce;
  private readonly recordAll;

  constructor(
    db: SqliteDatabase,
    private readonly events: SqliteEventLog,
  ) {
    this.selectDelivery = db.prepare(
      `SELECT id, message_id AS messageId, recipient, domain, state,
         (SELECT json_group_array(recipient) FROM (SELECT recipient FROM deliveries WHERE message_id = d.message_id AND domain = d.domain ORDER BY id)) AS domainRecipients
       FROM deliveries d WHERE id = ?`,
    );
    this.selectMessage = db.prepare(
      `SELECT id, account_id, mail_from, received_at, metadata,
         (SELECT json_group_array(recipient) FROM (SELECT recipient FROM deliveries WHERE message_id = m.id ORDER BY id)) AS recipients
       FROM messages m WHERE id = ?`,
    );
    // A bounce after a delivery was accepted leaves the delivery as it was (the remote MTA did take it, and its Delivery
    // event stands) and adds what the bounce says, so `queue show` tells both.
    this.noteBounce = db.prepare(
      `UPDATE deliveries SET bounce_type = @bounceType, bounce_sub_type = @bounceSubType, category = @category
       WHERE message_id = @messageId AND recipient = @recipient AND state = 'delivered'`,
    );
    this.recordAll = db.transaction((batch: FeedbackBatch) => {
      this.events.appendWithin(batch.events);
      for (const bounce of batch.bounces) this.noteBounce.run(bounce);
    });
  }

  delivery(id: number): ReturnPathDelivery | null {
    const row = this.selectDelivery.get(id) as (Omit<ReturnPathDelivery, 'domainRecipients'> & { domainRecipients: string }) | undefined;
    return row ? { ...row, domainRecipients: JSON.parse(row.domainRecipients) as string[] } : null;
  }

  message(id: string): MessageForEvents | null {
    const row = this.selectMessage.get(id) as EventMessageRow | undefined;
    if (!row) return null;
    const stored = { id: row.id, accountId: row.account_id, mailFrom: row.mail_from, receivedAt: row.received_at, metadata: JSON.parse(row.metadata) as MessageMetadata };
    return messageForEvents(stored, JSON.parse(row.recipients) as string[]);
  }

  record(batch: FeedbackBatch): void {
    if (batch.events.length === 0 && batch.bounces.length === 0) return;
    this.recordAll.immediate(batch);
    if (batch.events.length > 0) this.events.appended();
  }
}
