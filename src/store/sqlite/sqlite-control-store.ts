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

/** A commit of another process is noticed this long after it at most. */
const DATA_VERSION_CHECK_MS = 1;

export class SqliteControlStore implements ControlStore {
  readonly accounts: AccountStore;
  readonly credentials: CredentialStore;
  readonly identities: IdentityStore;
  readonly configurationSets: ConfigurationSetStore;
  readonly policies: PolicyStore;
  readonly suppression: SuppressionStore;

  private readonly dataVersion;
  private seenDataVersion: unknown;
  private checkedAt = Number.NEGATIVE_INFINITY;

  private constructor(private readonly db: SqliteDatabase) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.seenDataVersion = this.dataVersion.get();
    this.accounts = new SqliteAccountStore(db);
    this.credentials = new SqliteCredentialStore(db);
    this.identities = new SqliteIdentityStore(db);
    this.configurationSets = new SqliteConfigurationSetStore(db);
    this.policies = new SqlitePolicyStore(db);
    this.suppression = new SqliteSuppressionStore(db);
  }

  /**
   * Whether another connection (a CLI command, another process of the gateway) committed to control.db since the last
   * call: SQLite's data_version, which a commit of this connection leaves as it is. It is read at most once per
   * DATA_VERSION_CHECK_MS.
   */
  changedElsewhere(): boolean {
    // Asked for every cached read of every message; reading data_version looks at the WAL's shared index.
    const now = performance.now();
    if (now - this.checkedAt < DATA_VERSION_CHECK_MS) return false;
    this.checkedAt = now;
    const version = this.dataVersion.get();
    if (version === this.seenDataVersion) return false;
    this.seenDataVersion = version;
    return true;
  }

  static open(dataDir: string): SqliteControlStore {
    return new SqliteControlStore(openSqlite(join(dataDir, 'control.db'), { migrations: CONTROL_MIGRATIONS }));
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
