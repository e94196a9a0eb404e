import { AlreadyExistsError, NotFoundError, type Account, type AccountStore, type NewAccount } from '../control-store.js';
import { prepared, type SqliteDatabase } from './database.js';
import { isUniqueViolation } from './sqlite-errors.js';

interface AccountRow {
  id: string;
  sandbox: number;
  sending_enabled: number;
  max_send_rate: number;
  max_24_hour_send: number;
  created_at: number;
}

const toAccount = (row: AccountRow): Account => ({
  id: row.id,
  sandbox: row.sandbox === 1,
  sendingEnabled: row.sending_enabled === 1,
  maxSendRate: row.max_send_rate,
  max24HourSend: row.max_24_hour_send,
  createdAt: new Date(row.created_at),
});

export class SqliteAccountStore implements AccountStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(account: NewAccount): Promise<Account> {
    const createdAt = Date.now();
    try {
      prepared(this.db, 'INSERT INTO accounts (id, sandbox, sending_enabled, max_send_rate, max_24_hour_send, created_at) VALUES (?, ?, ?, ?, ?, ?)')
        .run(account.id, account.sandbox ? 1 : 0, account.sendingEnabled ? 1 : 0, account.maxSendRate, account.max24HourSend, createdAt);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`account ${account.id}`);
      throw error;
    }
    return { ...account, createdAt: new Date(createdAt) };
  }

  async get(id: string): Promise<Account | null> {
    const row = prepared(this.db, 'SELECT * FROM accounts WHERE id = ?').get(id) as AccountRow | undefined;
    return row ? toAccount(row) : null;
  }

  async list(): Promise<Account[]> {
    return (prepared(this.db, 'SELECT * FROM accounts ORDER BY created_at, id').all() as AccountRow[]).map(toAccount);
  }

  async update(id: string, changes: Partial<Omit<Account, 'id' | 'createdAt'>>): Promise<Account> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError(`account ${id}`);
    const next = { ...current, ...changes };
    prepared(this.db, 'UPDATE accounts SET sandbox = ?, sending_enabled = ?, max_send_rate = ?, max_24_hour_send = ? WHERE id = ?')
      .run(next.sandbox ? 1 : 0, next.sendingEnabled ? 1 : 0, next.maxSendRate, next.max24HourSend, id);
    return next;
  }
}
