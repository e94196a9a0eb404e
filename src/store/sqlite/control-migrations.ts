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
];
