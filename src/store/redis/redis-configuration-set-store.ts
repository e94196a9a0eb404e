import type { Redis } from 'ioredis';
import type { ConfigurationSet, ConfigurationSetStore, NewConfigurationSet } from '../configuration-sets.js';
import type { ControlKeys } from './control-keys.js';
import { NamedRecords } from './named-records.js';

export class RedisConfigurationSetStore implements ConfigurationSetStore {
  private readonly records: NamedRecords<ConfigurationSet>;

  constructor(redis: Redis, keys: ControlKeys) {
    this.records = new NamedRecords<ConfigurationSet>(redis, keys, 'configset', 'configuration set', ['createdAt']);
  }

  async create(set: NewConfigurationSet): Promise<ConfigurationSet> {
    return this.restore({ ...set, createdAt: new Date() });
  }

  /** Stores a configuration set as it is (an import keeps its creation time). */
  restore(set: ConfigurationSet): Promise<ConfigurationSet> {
    return this.records.insert(set);
  }

  get(accountId: string, name: string): Promise<ConfigurationSet | null> {
    return this.records.get(accountId, name);
  }

  list(accountId?: string): Promise<ConfigurationSet[]> {
    return this.records.list(accountId);
  }

  update(accountId: string, name: string, changes: Partial<Omit<ConfigurationSet, 'accountId' | 'name' | 'createdAt'>>): Promise<ConfigurationSet> {
    return this.records.update(accountId, name, changes);
  }

  delete(accountId: string, name: string): Promise<boolean> {
    return this.records.delete(accountId, name);
  }
}
