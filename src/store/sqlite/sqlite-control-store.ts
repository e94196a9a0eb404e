import { join } from 'node:path';
import {
  AlreadyExistsError,
  NotFoundError,
  type Account,
  type AccountStore,
  type ControlStore,
  type Credential,
  type CredentialStore,
  type NewAccount,
  type NewCredential,
} from '../control-store.js';
import { CONTROL_MIGRATIONS } from './control-migrations.js';
import { migrate, openSqlite, type SqliteDatabase } from './database.js';

interface AccountRow {
  id: string;
  sandbox: number;
  sending_enabled: number;
  max_send_rate: number;
  max_24_hour_send: number;
  created_at: number;
}

interface CredentialRow {
  access_key_id: string;
  account_id: string;
  user_name: string;
  region: string;
  password_salt: string;
  password_hash: string;
  created_at: number;
  revoked_at: number | null;
}

const toAccount = (row: AccountRow): Account => ({
  id: row.id,
  sandbox: row.sandbox === 1,
  sendingEnabled: row.sending_enabled === 1,
  maxSendRate: row.max_send_rate,
  max24HourSend: row.max_24_hour_send,
  createdAt: new Date(row.created_at),
});

const toCredential = (row: CredentialRow): Credential => ({
  accessKeyId: row.access_key_id,
  accountId: row.account_id,
  userName: row.user_name,
  region: row.region,
  password: { salt: row.password_salt, hash: row.password_hash },
  createdAt: new Date(row.created_at),
  revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
});

const isUniqueViolation = (error: unknown): boolean => (error as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY';

class SqliteAccountStore implements AccountStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(account: NewAccount): Promise<Account> {
    const createdAt = Date.now();
    try {
      this.db
        .prepare('INSERT INTO accounts (id, sandbox, sending_enabled, max_send_rate, max_24_hour_send, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(account.id, account.sandbox ? 1 : 0, account.sendingEnabled ? 1 : 0, account.maxSendRate, account.max24HourSend, createdAt);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`account ${account.id}`);
      throw error;
    }
    return { ...account, createdAt: new Date(createdAt) };
  }

  async get(id: string): Promise<Account | null> {
    const row = this.db.prepare('SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  async list(): Promise<Account[]> {
    return (this.db.prepare('SELECT * FROM accounts ORDER BY created_at, id').all() as AccountRow[]).map(toAccount);
  }

  async update(id: string, changes: Partial<Omit<Account, 'id' | 'createdAt'>>): Promise<Account> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError(`account ${id}`);
    const next = { ...current, ...changes };
    this.db
      .prepare('UPDATE accounts SET sandbox = ?, sending_enabled = ?, max_send_rate = ?, max_24_hour_send = ? WHERE id = ?')
      .run(next.sandbox ? 1 : 0, next.sendingEnabled ? 1 : 0, next.maxSendRate, next.max24HourSend, id);
    return next;
  }
}

class SqliteCredentialStore implements CredentialStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(credential: NewCredential): Promise<Credential> {
    const createdAt = Date.now();
    try {
      this.db
        .prepare(
          `INSERT INTO credentials (access_key_id, account_id, user_name, region, password_salt, password_hash, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(credential.accessKeyId, credential.accountId, credential.userName, credential.region, credential.password.salt, credential.password.hash, createdAt);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`credential ${credential.accessKeyId}`);
      throw error;
    }
    return { ...credential, createdAt: new Date(createdAt), revokedAt: null };
  }

  async get(accessKeyId: string): Promise<Credential | null> {
    const row = this.db.prepare('SELECT * FROM credentials WHERE access_key_id = ?').get(accessKeyId) as CredentialRow | undefined;
    return row ? toCredential(row) : null;
  }

  async list(accountId?: string): Promise<Credential[]> {
    const rows = accountId
      ? this.db.prepare('SELECT * FROM credentials WHERE account_id = ? ORDER BY created_at').all(accountId)
      : this.db.prepare('SELECT * FROM credentials ORDER BY account_id, created_at').all();
    return (rows as CredentialRow[]).map(toCredential);
  }

  async revoke(accessKeyId: string): Promise<boolean> {
    const result = this.db.prepare('UPDATE credentials SET revoked_at = ? WHERE access_key_id = ? AND revoked_at IS NULL').run(Date.now(), accessKeyId);
    return result.changes === 1;
  }
}

export class SqliteControlStore implements ControlStore {
  readonly accounts: AccountStore;
  readonly credentials: CredentialStore;

  private constructor(private readonly db: SqliteDatabase) {
    this.accounts = new SqliteAccountStore(db);
    this.credentials = new SqliteCredentialStore(db);
  }

  static open(dataDir: string): SqliteControlStore {
    const db = openSqlite(join(dataDir, 'control.db'));
    migrate(db, CONTROL_MIGRATIONS);
    return new SqliteControlStore(db);
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
