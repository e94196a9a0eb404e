import type { SuppressionReason } from '../configuration-sets.js';
import {
  DEFAULT_SUPPRESSED_REASONS,
  suppressionKey,
  type SuppressedDestination,
  type SuppressionListFilter,
  type SuppressionPage,
  type SuppressionStore,
} from '../suppression.js';
import { decodePageToken, DEFAULT_PAGE_SIZE, encodePageToken } from '../suppression-page-token.js';
import { prepared, type SqliteDatabase } from './database.js';

export { InvalidNextTokenError } from '../suppression-page-token.js';

interface SuppressionRow {
  account_id: string;
  email_address: string;
  reason: SuppressionReason;
  last_update_time: number;
  message_id: string | null;
  feedback_id: string | null;
}

const toEntry = (row: SuppressionRow): SuppressedDestination => ({
  accountId: row.account_id,
  emailAddress: row.email_address,
  reason: row.reason,
  lastUpdateTime: new Date(row.last_update_time),
  messageId: row.message_id,
  feedbackId: row.feedback_id,
});

const encodeLastToken = (row: SuppressionRow) => encodePageToken(row.last_update_time, row.email_address);

export class SqliteSuppressionStore implements SuppressionStore {
  private readonly upsertAll;
  private readonly deleteAll;

  constructor(private readonly db: SqliteDatabase) {
    const upsert = db.prepare(
      `INSERT INTO suppressed_destinations (account_id, email_address, reason, last_update_time, message_id, feedback_id)
       VALUES (@accountId, @emailAddress, @reason, @lastUpdateTime, @messageId, @feedbackId)
       ON CONFLICT (account_id, email_address) DO UPDATE SET reason = excluded.reason, last_update_time = excluded.last_update_time,
         message_id = excluded.message_id, feedback_id = excluded.feedback_id`,
    );
    const remove = db.prepare('DELETE FROM suppressed_destinations WHERE account_id = ? AND email_address = ?');
    this.upsertAll = db.transaction((entries: Parameters<SuppressionStore['put']>[0], now: number) => {
      for (const entry of entries) {
        upsert.run({
          accountId: entry.accountId,
          emailAddress: suppressionKey(entry.emailAddress),
          reason: entry.reason,
          lastUpdateTime: entry.lastUpdateTime?.getTime() ?? now,
          messageId: entry.messageId,
          feedbackId: entry.feedbackId,
        });
      }
      return entries.length;
    });
    this.deleteAll = db.transaction((accountId: string, addresses: readonly string[]) => {
      let removed = 0;
      for (const address of addresses) removed += remove.run(accountId, suppressionKey(address)).changes;
      return removed;
    });
  }

  async put(entries: Parameters<SuppressionStore['put']>[0]): Promise<number> {
    return this.upsertAll.immediate(entries, Date.now());
  }

  async get(accountId: string, emailAddress: string): Promise<SuppressedDestination | null> {
    const row = prepared(this.db, 'SELECT * FROM suppressed_destinations WHERE account_id = ? AND email_address = ?').get(accountId, suppressionKey(emailAddress)) as
      | SuppressionRow
      | undefined;
    return row ? toEntry(row) : null;
  }

  async delete(accountId: string, emailAddresses: readonly string[]): Promise<number> {
    return this.deleteAll.immediate(accountId, emailAddresses);
  }

  async list(accountId: string, filter: SuppressionListFilter = {}): Promise<SuppressionPage> {
    const pageSize = filter.pageSize ?? DEFAULT_PAGE_SIZE;
    const after = filter.nextToken ? decodePageToken(filter.nextToken) : null;
    const rows = prepared(
      this.db,
      `SELECT * FROM suppressed_destinations
       WHERE account_id = @accountId
         AND (@reasons IS NULL OR reason IN (SELECT value FROM json_each(@reasons)))
         AND (@start IS NULL OR last_update_time > @start) AND (@end IS NULL OR last_update_time < @end)
         AND (@afterTime IS NULL OR last_update_time < @afterTime OR (last_update_time = @afterTime AND email_address > @afterAddress))
       ORDER BY last_update_time DESC, email_address LIMIT @limit`,
    ).all({
      accountId,
      reasons: filter.reasons?.length ? JSON.stringify(filter.reasons) : null,
      start: filter.startDate?.getTime() ?? null,
      end: filter.endDate?.getTime() ?? null,
      afterTime: after?.[0] ?? null,
      afterAddress: after?.[1] ?? null,
      limit: pageSize + 1,
    }) as SuppressionRow[];
    const page = rows.slice(0, pageSize);
    return { entries: page.map(toEntry), ...(rows.length > pageSize ? { nextToken: encodeLastToken(page[page.length - 1]!) } : {}) };
  }

  async suppressed(accountId: string, emailAddresses: readonly string[]): Promise<Set<string>> {
    if (emailAddresses.length === 0) return new Set();
    const keys = new Set(
      prepared(this.db, 'SELECT email_address FROM suppressed_destinations WHERE account_id = ? AND email_address IN (SELECT value FROM json_each(?))')
        .pluck()
        .all(accountId, JSON.stringify(emailAddresses.map(suppressionKey))) as string[],
    );
    return new Set(emailAddresses.filter((address) => keys.has(suppressionKey(address))));
  }

  async reasons(accountId: string): Promise<SuppressionReason[]> {
    const stored = prepared(this.db, 'SELECT reasons FROM account_suppression WHERE account_id = ?').pluck().get(accountId) as string | undefined;
    return stored === undefined ? [...DEFAULT_SUPPRESSED_REASONS] : (JSON.parse(stored) as SuppressionReason[]);
  }

  async setReasons(accountId: string, reasons: readonly SuppressionReason[]): Promise<void> {
    prepared(this.db, 'INSERT INTO account_suppression (account_id, reasons) VALUES (?, ?) ON CONFLICT (account_id) DO UPDATE SET reasons = excluded.reasons').run(
      accountId,
      JSON.stringify([...new Set(reasons)]),
    );
  }
}
