import type { Redis } from 'ioredis';
import { NotFoundError, type Account, type AccountStore, type NewAccount } from '../control-store.js';
import type { ControlKeys } from './control-keys.js';
import { fromHash, insertRecord, readRecords, replaceRecord } from './hash-records.js';

const DATES = ['createdAt'] as const;

export class RedisAccountStore implements AccountStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ControlKeys,
  ) {}

  async create(account: NewAccount): Promise<Account> {
    return this.restore({ ...account, createdAt: new Date() });
  }

  /** Stores an account as it is (an import keeps its creation time). */
  async restore(account: Account): Promise<Account> {
    const key = this.keys.account(account.id);
    await insertRecord(this.redis, { key, what: `account ${account.id}`, account: null, indexes: [[this.keys.accounts, account.createdAt.getTime()]], member: account.id, record: account });
    return account;
  }

  async get(id: string): Promise<Account | null> {
    return fromHash<Account>(await this.redis.hgetall(this.keys.account(id)), DATES);
  }

  /** By creation time, then id (the index's order for equal scores). */
  async list(): Promise<Account[]> {
    const ids = await this.redis.zrange(this.keys.accounts, 0, -1);
    return readRecords<Account>(this.redis, ids.map((id) => this.keys.account(id)), DATES);
  }

  async update(id: string, changes: Partial<Omit<Account, 'id' | 'createdAt'>>): Promise<Account> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError(`account ${id}`);
    const next = { ...current, ...changes };
    await replaceRecord(this.redis, this.keys.account(id), `account ${id}`, next);
    return next;
  }
}
