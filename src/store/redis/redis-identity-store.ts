import type { Redis } from 'ioredis';
import type { Identity, IdentityStore, NewIdentity } from '../identities.js';
import { policyTargetMember, type ControlKeys } from './control-keys.js';
import { NamedRecords } from './named-records.js';

export class RedisIdentityStore implements IdentityStore {
  private readonly records: NamedRecords<Identity>;

  constructor(
    redis: Redis,
    private readonly keys: ControlKeys,
  ) {
    this.records = new NamedRecords<Identity>(redis, keys, 'identity', 'identity', ['pendingSince', 'lastCheckedAt', 'createdAt']);
  }

  async create(identity: NewIdentity): Promise<Identity> {
    return this.restore({ feedbackForwarding: true, ...identity, notifications: identity.notifications ?? {}, createdAt: new Date() });
  }

  /** Stores an identity as it is (an import keeps its times and verification state). */
  restore(identity: Identity): Promise<Identity> {
    return this.records.insert(identity);
  }

  get(accountId: string, name: string): Promise<Identity | null> {
    return this.records.get(accountId, name);
  }

  list(accountId?: string): Promise<Identity[]> {
    return this.records.list(accountId);
  }

  findByNames(accountId: string, names: readonly string[]): Promise<Identity[]> {
    return this.records.getMany(accountId, names);
  }

  update(accountId: string, name: string, changes: Partial<Omit<Identity, 'accountId' | 'name' | 'type' | 'createdAt'>>): Promise<Identity> {
    return this.records.update(accountId, name, changes);
  }

  /** Deletes the identity with its sending authorization policies, as SQLite does. */
  delete(accountId: string, name: string): Promise<boolean> {
    const target = { kind: 'identity', accountId, identity: name } as const;
    return this.records.delete(accountId, name, (transaction) => transaction.del(this.keys.policies(target)).zrem(this.keys.policyTargets(accountId), policyTargetMember(target)));
  }
}
