import { join } from 'node:path';
import type { AccountStore, ControlStore, CredentialStore } from '../control-store.js';
import type { ConfigurationSetStore } from '../configuration-sets.js';
import type { IdentityStore } from '../identities.js';
import type { PolicyStore } from '../policies.js';
import { CONTROL_MIGRATIONS } from './control-migrations.js';
import { openSqlite, type SqliteDatabase } from './database.js';
import { SqliteAccountStore } from './sqlite-account-store.js';
import { SqliteConfigurationSetStore } from './sqlite-configuration-set-store.js';
import { SqliteCredentialStore } from './sqlite-credential-store.js';
import { SqliteIdentityStore } from './sqlite-identity-store.js';
import { SqlitePolicyStore } from './sqlite-policy-store.js';
import { SqliteSuppressionStore } from './sqlite-suppression-store.js';
import type { SuppressionStore } from '../suppression.js';

export class SqliteControlStore implements ControlStore {
  readonly accounts: AccountStore;
  readonly credentials: CredentialStore;
  readonly identities: IdentityStore;
  readonly configurationSets: ConfigurationSetStore;
  readonly policies: PolicyStore;
  readonly suppression: SuppressionStore;

  private constructor(private readonly db: SqliteDatabase) {
    this.accounts = new SqliteAccountStore(db);
    this.credentials = new SqliteCredentialStore(db);
    this.identities = new SqliteIdentityStore(db);
    this.configurationSets = new SqliteConfigurationSetStore(db);
    this.policies = new SqlitePolicyStore(db);
    this.suppression = new SqliteSuppressionStore(db);
  }

  static open(dataDir: string): SqliteControlStore {
    return new SqliteControlStore(openSqlite(join(dataDir, 'control.db'), { migrations: CONTROL_MIGRATIONS }));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
