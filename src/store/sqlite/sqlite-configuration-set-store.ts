import { AlreadyExistsError, NotFoundError } from '../control-store.js';
import type { ConfigurationSet, ConfigurationSetStore, NewConfigurationSet } from '../configuration-sets.js';
import { prepared, type SqliteDatabase } from './database.js';
import { isUniqueViolation } from './sqlite-errors.js';

interface ConfigurationSetRow {
  account_id: string;
  name: string;
  sending_enabled: number;
  tls_policy: ConfigurationSet['tlsPolicy'];
  sending_pool_name: string | null;
  suppressed_reasons: string;
  event_destinations: string;
  created_at: number;
}

const toConfigurationSet = (row: ConfigurationSetRow): ConfigurationSet => ({
  accountId: row.account_id,
  name: row.name,
  sendingEnabled: row.sending_enabled === 1,
  tlsPolicy: row.tls_policy,
  sendingPoolName: row.sending_pool_name,
  suppressedReasons: JSON.parse(row.suppressed_reasons),
  eventDestinations: JSON.parse(row.event_destinations),
  createdAt: new Date(row.created_at),
});

const toParameters = (set: ConfigurationSet) => ({
  accountId: set.accountId,
  name: set.name,
  sendingEnabled: set.sendingEnabled ? 1 : 0,
  tlsPolicy: set.tlsPolicy,
  sendingPoolName: set.sendingPoolName,
  suppressedReasons: JSON.stringify(set.suppressedReasons),
  eventDestinations: JSON.stringify(set.eventDestinations),
  createdAt: set.createdAt.getTime(),
});

export class SqliteConfigurationSetStore implements ConfigurationSetStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(set: NewConfigurationSet): Promise<ConfigurationSet> {
    const created = { ...set, createdAt: new Date() };
    try {
      prepared(this.db, 
          `INSERT INTO configuration_sets (account_id, name, sending_enabled, tls_policy, sending_pool_name, suppressed_reasons, event_destinations, created_at)
           VALUES (@accountId, @name, @sendingEnabled, @tlsPolicy, @sendingPoolName, @suppressedReasons, @eventDestinations, @createdAt)`,
        )
        .run(toParameters(created));
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`configuration set ${set.name}`);
      throw error;
    }
    return created;
  }

  async get(accountId: string, name: string): Promise<ConfigurationSet | null> {
    const row = prepared(this.db, 'SELECT * FROM configuration_sets WHERE account_id = ? AND name = ?').get(accountId, name) as ConfigurationSetRow | undefined;
    return row ? toConfigurationSet(row) : null;
  }

  async list(accountId?: string): Promise<ConfigurationSet[]> {
    const rows = accountId
      ? prepared(this.db, 'SELECT * FROM configuration_sets WHERE account_id = ? ORDER BY name').all(accountId)
      : prepared(this.db, 'SELECT * FROM configuration_sets ORDER BY account_id, name').all();
    return (rows as ConfigurationSetRow[]).map(toConfigurationSet);
  }

  async update(accountId: string, name: string, changes: Partial<Omit<ConfigurationSet, 'accountId' | 'name' | 'createdAt'>>): Promise<ConfigurationSet> {
    const current = await this.get(accountId, name);
    if (!current) throw new NotFoundError(`configuration set ${name}`);
    const next = { ...current, ...changes };
    prepared(this.db, 
        `UPDATE configuration_sets SET sending_enabled = @sendingEnabled, tls_policy = @tlsPolicy, sending_pool_name = @sendingPoolName,
           suppressed_reasons = @suppressedReasons, event_destinations = @eventDestinations WHERE account_id = @accountId AND name = @name`,
      )
      .run(toParameters(next));
    return next;
  }

  async delete(accountId: string, name: string): Promise<boolean> {
    return prepared(this.db, 'DELETE FROM configuration_sets WHERE account_id = ? AND name = ?').run(accountId, name).changes === 1;
  }
}
