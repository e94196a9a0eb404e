import { randomUUID } from 'node:crypto';
import type { SqliteDatabase } from '../store/sqlite/database.js';
import type { WalSync } from '../store/sqlite/wal-sync.js';
import { withoutFsync } from '../store/sqlite/without-fsync.js';
import type { ClaimedBatch, ClaimedDelivery, CompletedMessage, MessageForDelivery, ResultBatch } from './delivery-records.js';
import type { DeliveryLeases } from './queue-store.js';
import type { SqliteEventLog } from './sqlite-event-log.js';
import { COMPLETE_MESSAGE_SQL, type MessageRow } from './sqlite-message-row.js';

interface ClaimedRow {
  id: number;
  message_id: string;
  recipient: string;
  domain: string;
  attempts: number;
  source_ip: string | null;
}

type DeliveryMessageRow = Omit<MessageRow, 'access_key_id' | 'completed_at'>;

/**
 * Leases on delivery rows for one delivery engine. A lease names this process (lease_owner) and an expiry; results
 * and releases apply only to rows this process still holds, so an operator's change made meanwhile (hold, delete)
 * wins over a late result.
 */
export class SqliteDeliveryLeases implements DeliveryLeases {
  readonly owner = randomUUID();
  private readonly claimRows;
  private readonly messageRows;
  private readonly applyResult;
  private readonly applyRelease;
  private readonly storeSignature;
  private readonly addVolume;
  private readonly completeMessage;
  private readonly claimAll;
  private readonly recordAll;
  private readonly earliestDue;
  private readonly recoverRows;

  constructor(
    private readonly db: SqliteDatabase,
    private readonly events: SqliteEventLog,
    private readonly walSync: WalSync,
  ) {
    this.claimRows = db.prepare(
      `UPDATE deliveries SET state = 'leased', lease_owner = @owner, lease_until = @until
       WHERE id IN (SELECT id FROM deliveries WHERE state = 'queued' AND next_attempt_at <= @now
                      AND domain NOT IN (SELECT value FROM json_each(@excluded)) ORDER BY next_attempt_at LIMIT @limit)
       RETURNING id, message_id, recipient, domain, attempts, source_ip`,
    );
    this.messageRows = db.prepare(
      `SELECT id, account_id, mail_from, header, body, body_file, size, received_at, metadata, dkim_signature
       FROM messages WHERE id IN (SELECT value FROM json_each(?))`,
    );
    this.applyResult = db.prepare(
      `UPDATE deliveries SET
         state = @state, attempts = attempts + 1, next_attempt_at = COALESCE(@nextAttemptAt, next_attempt_at),
         lease_owner = NULL, lease_until = NULL, last_response = @response, remote_mta = @remoteMta, mx_host = @mxHost,
         source_ip = COALESCE(@sourceIp, source_ip), outgoing_ip = COALESCE(@outgoingIp, outgoing_ip), reporting_mta = @reportingMta, bounce_type = @bounceType,
         bounce_sub_type = @bounceSubType, category = @category, first_attempt_at = COALESCE(first_attempt_at, @at),
         last_attempt_at = @at, finished_at = CASE WHEN @state = 'queued' THEN NULL ELSE @at END
       WHERE id = @deliveryId AND state = 'leased' AND lease_owner = @owner`,
    );
    this.applyRelease = db.prepare(
      `UPDATE deliveries SET state = 'queued', lease_owner = NULL, lease_until = NULL, next_attempt_at = @nextAttemptAt
       WHERE id = @deliveryId AND state = 'leased' AND lease_owner = @owner`,
    );
    this.earliestDue = db.prepare(`SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'queued' AND domain NOT IN (SELECT value FROM json_each(?))`).pluck();
    this.recoverRows = db.prepare(
      `UPDATE deliveries SET state = 'queued', lease_owner = NULL, lease_until = NULL WHERE state = 'leased' AND (lease_owner IS NOT ? OR lease_until < ?)`,
    );
    this.storeSignature = db.prepare('UPDATE messages SET dkim_signature = ? WHERE id = ? AND dkim_signature IS NULL');
    this.addVolume = db.prepare(
      `INSERT INTO source_volume (address, day, recipients) VALUES (@address, @day, @recipients)
       ON CONFLICT (address, day) DO UPDATE SET recipients = recipients + excluded.recipients`,
    );
    this.completeMessage = db.prepare(COMPLETE_MESSAGE_SQL);
    this.claimAll = db.transaction((now: number, limit: number, leaseMs: number, excluded: string): ClaimedBatch => {
      const rows = this.claimRows.all({ owner: this.owner, until: now + leaseMs, now, limit, excluded }) as ClaimedRow[];
      const deliveries = rows.map(toClaimed).sort((a, b) => a.id - b.id);
      const ids = [...new Set(deliveries.map((delivery) => delivery.messageId))];
      const messages = new Map<string, MessageForDelivery>();
      if (ids.length > 0) {
        for (const row of this.messageRows.all(JSON.stringify(ids)) as DeliveryMessageRow[]) messages.set(row.id, toMessage(row));
      }
      return { deliveries, messages };
    });
    this.recordAll = db.transaction((batch: ResultBatch, now: number): CompletedMessage[] => {
      for (const { messageId, signature } of batch.signatures) this.storeSignature.run(signature, messageId);
      for (const volume of batch.volumes) this.addVolume.run(volume);
      for (const result of batch.results) this.applyResult.run({ ...result, owner: this.owner });
      for (const release of batch.releases) this.applyRelease.run({ ...release, owner: this.owner });
      this.events.appendWithin(batch.events);
      const completed: CompletedMessage[] = [];
      for (const id of new Set(batch.results.map((result) => result.messageId))) {
        const row = this.completeMessage.get({ id, now }) as { id: string; body_file: string } | undefined;
        if (row) completed.push({ id: row.id, bodyFile: row.body_file });
      }
      return completed;
    });
  }

  recoverLeases(now: number): number {
    // One engine runs per data directory, so any lease this process did not take was left by a process that died.
    return this.recoverRows.run(this.owner, now).changes;
  }

  claim(now: number, limit: number, leaseMs: number, excludedDomains: readonly string[] = []): ClaimedBatch {
    // A lease needs no fsync: lost in a power cut, it only returns the delivery to the queue, which recovery does
    // anyway.
    return withoutFsync(this.db, () => this.claimAll.immediate(now, limit, leaseMs, JSON.stringify(excludedDomains)));
  }

  nextDueAt(excludedDomains: readonly string[] = []): number | null {
    return this.earliestDue.get(JSON.stringify(excludedDomains)) as number | null;
  }

  record(batch: ResultBatch, now: number): Promise<CompletedMessage[]> {
    // Results must be on disk before a completed message's body file is removed and before their events go out:
    // the WAL is fsynced off the event loop, and the promise waits for it.
    return this.walSync.commit(this.db, () => this.recordAll.immediate(batch, now)).then((completed) => {
      if (batch.events.length > 0) this.events.appended();
      return completed;
    });
  }
}

const toClaimed = (row: ClaimedRow): ClaimedDelivery => ({
  id: row.id,
  messageId: row.message_id,
  recipient: row.recipient,
  domain: row.domain,
  attempts: row.attempts,
  sourceIp: row.source_ip,
});

const toMessage = (row: DeliveryMessageRow): MessageForDelivery => ({
  id: row.id,
  accountId: row.account_id,
  mailFrom: row.mail_from,
  header: row.header,
  body: row.body,
  bodyFile: row.body_file,
  size: row.size,
  receivedAt: row.received_at,
  metadata: JSON.parse(row.metadata),
  dkimSignature: row.dkim_signature,
});
