/** Schema of control.db, one entry per version; append, never edit a released entry. */
export const CONTROL_MIGRATIONS: readonly string[] = [
  `CREATE TABLE accounts (
     id TEXT PRIMARY KEY,
     sandbox INTEGER NOT NULL,
     sending_enabled INTEGER NOT NULL,
     max_send_rate REAL NOT NULL,
     max_24_hour_send INTEGER NOT NULL,
     created_at INTEGER NOT NULL
   );
   CREATE TABLE credentials (
     access_key_id TEXT PRIMARY KEY,
     account_id TEXT NOT NULL REFERENCES accounts(id),
     user_name TEXT NOT NULL,
     region TEXT NOT NULL,
     password_salt TEXT NOT NULL,
     password_hash TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     revoked_at INTEGER
   );
   CREATE INDEX credentials_account ON credentials(account_id);`,
  `CREATE TABLE identities (
     account_id TEXT NOT NULL REFERENCES accounts(id),
     name TEXT NOT NULL,
     type TEXT NOT NULL,
     status TEXT NOT NULL,
     verified_by TEXT,
     verification_token TEXT NOT NULL,
     pending_since INTEGER,
     last_checked_at INTEGER,
     dkim TEXT,
     mail_from TEXT,
     default_configuration_set TEXT,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (account_id, name)
   );
   CREATE TABLE configuration_sets (
     account_id TEXT NOT NULL REFERENCES accounts(id),
     name TEXT NOT NULL,
     sending_enabled INTEGER NOT NULL,
     tls_policy TEXT NOT NULL,
     sending_pool_name TEXT,
     suppressed_reasons TEXT NOT NULL,
     event_destinations TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     PRIMARY KEY (account_id, name)
   );
   CREATE TABLE policies (
     account_id TEXT NOT NULL REFERENCES accounts(id),
     target_kind TEXT NOT NULL,
     target_name TEXT NOT NULL,
     name TEXT NOT NULL,
     document TEXT NOT NULL,
     updated_at INTEGER NOT NULL,
     PRIMARY KEY (account_id, target_kind, target_name, name)
   );
   -- Credentials created before policies existed keep sending: their users get SES's default sending policy.
   INSERT INTO policies (account_id, target_kind, target_name, name, document, updated_at)
     SELECT DISTINCT account_id, 'user', user_name, 'AmazonSesSendingAccess',
       '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}',
       CAST(strftime('%s', 'now') AS INTEGER) * 1000
     FROM credentials;`,
  // The account-level suppression list and each account's reasons for automatic additions (no row: SES's default,
  // both). A configuration set's reasons become an override only when set: '[]' written at creation meant "not set".
  `CREATE TABLE suppressed_destinations (
     account_id TEXT NOT NULL,
     email_address TEXT NOT NULL,
     reason TEXT NOT NULL,
     last_update_time INTEGER NOT NULL,
     message_id TEXT,
     feedback_id TEXT,
     PRIMARY KEY (account_id, email_address)
   ) WITHOUT ROWID;
   CREATE INDEX suppressed_destinations_time ON suppressed_destinations(account_id, last_update_time);
   CREATE TABLE account_suppression (
     account_id TEXT PRIMARY KEY,
     reasons TEXT NOT NULL
   ) WITHOUT ROWID;
   UPDATE configuration_sets SET suppressed_reasons = 'null' WHERE suppressed_reasons = '[]';`,
  // Email feedback forwarding per identity (SES's SetIdentityFeedbackForwardingEnabled), on by default.
  `ALTER TABLE identities ADD COLUMN feedback_forwarding INTEGER NOT NULL DEFAULT 1;`,
  // Identity notification topics (Bounce, Complaint, Delivery) as JSON; NULL: none.
  `ALTER TABLE identities ADD COLUMN notifications TEXT;`,
  // The secret access key, sealed with the operator's key file, so the HTTP API can check SigV4 (SMTP uses only the hash).
  `ALTER TABLE credentials ADD COLUMN sealed_secret TEXT;`,
];
