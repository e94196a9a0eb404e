/** A row of queue.db's messages table, as better-sqlite3 returns it. */
export interface MessageRow {
  id: string;
  account_id: string;
  access_key_id: string;
  mail_from: string;
  header: Buffer;
  body_file: string;
  size: number;
  received_at: number;
  /** JSON of MessageMetadata. */
  metadata: string;
  dkim_signature: Buffer | null;
  completed_at: number | null;
}
