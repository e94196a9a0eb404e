import type { ChainableCommander, Redis } from 'ioredis';
import { NotFoundError } from '../control-store.js';
import type { ControlKeys, NamedKind } from './control-keys.js';
import { fromHash, insertRecord, pipelineReplies, readRecords, replaceRecord } from './hash-records.js';

interface NamedRecord {
  accountId: string;
  name: string;
  createdAt: Date;
}

/** Byte order, as SQLite's BINARY collation and Redis's sorted sets compare. */
const byBytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/**
 * Records named within an account (identities, configuration sets): a hash each and a per-account index of names
 * (score 0, so Redis keeps them in byte order, as SQLite's ORDER BY name).
 */
export class NamedRecords<T extends NamedRecord> {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ControlKeys,
    private readonly kind: NamedKind,
    /** How messages name it: "identity", "configuration set". */
    private readonly noun: string,
    private readonly dateFields: readonly (keyof T & string)[],
  ) {}

  key(accountId: string, name: string): string {
    return this.keys.named(this.kind, accountId, name);
  }

  async insert(record: T): Promise<T> {
    await insertRecord(this.redis, {
      key: this.key(record.accountId, record.name),
      what: `${this.noun} ${record.name}`,
      account: { id: record.accountId, key: this.keys.account(record.accountId) },
      indexes: [[this.keys.names(this.kind, record.accountId), 0]],
      member: record.name,
      record,
    });
    return record;
  }

  async get(accountId: string, name: string): Promise<T | null> {
    return fromHash<T>(await this.redis.hgetall(this.key(accountId, name)), this.dateFields);
  }

  /** The account's records by name; without an account, every account's, by account and name. */
  async list(accountId?: string): Promise<T[]> {
    const accountIds = accountId !== undefined ? [accountId] : (await this.redis.zrange(this.keys.accounts, 0, -1)).sort(byBytes);
    const names = await Promise.all(accountIds.map((id) => this.redis.zrange(this.keys.names(this.kind, id), 0, -1)));
    const keys = accountIds.flatMap((id, index) => names[index]!.map((name) => this.key(id, name)));
    return readRecords<T>(this.redis, keys, this.dateFields);
  }

  /** The account's records among the names (exact match), each once. */
  async getMany(accountId: string, names: readonly string[]): Promise<T[]> {
    return readRecords<T>(this.redis, [...new Set(names)].map((name) => this.key(accountId, name)), this.dateFields);
  }

  async update(accountId: string, name: string, changes: Partial<T>): Promise<T> {
    const current = await this.get(accountId, name);
    if (!current) throw new NotFoundError(`${this.noun} ${name}`);
    const next = { ...current, ...changes };
    await replaceRecord(this.redis, this.key(accountId, name), `${this.noun} ${name}`, next);
    return next;
  }

  /** Removes the record and its index entry, with `alsoDelete` keys, in one MULTI; false when it did not exist. */
  async delete(accountId: string, name: string, alsoDelete: (transaction: ChainableCommander) => void = () => undefined): Promise<boolean> {
    const transaction = this.redis.multi().zrem(this.keys.names(this.kind, accountId), name);
    alsoDelete(transaction);
    const replies = pipelineReplies(await transaction.del(this.key(accountId, name)).exec());
    return replies[replies.length - 1] === 1;
  }
}
