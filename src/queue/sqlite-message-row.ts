/** A row of queue.db's messages table, as better-sqlite3 returns it. */
export interface MessageRow {
  id: string;
  account_id: string;
  access_key_id: string;
  mail_from: string;
  header: Buffer;
  body_file: string;
  body: Buffer | null;
  size: number;
  received_at: number;
  /** JSON of MessageMetadata. */
  metadata: string;
  dkim_signature: Buffer | null;
  completed_at: number | null;
}

/**
 * Marks a message complete once none of its deliveries is left to do, returning its body file (if any) for
 * removal; an inline body is dropped with it, as the results are all that is kept.
 */
export const COMPLETE_MESSAGE_SQL = `UPDATE messages SET completed_at = @now, body = NULL
  WHERE id = @id AND completed_at IS NULL
    AND NOT EXISTS (SELECT 1 FROM deliveries WHERE message_id = @id AND state NOT IN ('delivered', 'bounced', 'deleted'))
  RETURNING id, body_file`;
