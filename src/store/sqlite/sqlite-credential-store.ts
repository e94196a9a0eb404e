import { AlreadyExistsError, type Credential, type CredentialStore, type NewCredential } from '../control-store.js';
import { prepared, type SqliteDatabase } from './database.js';
import { isUniqueViolation } from './sqlite-errors.js';

interface CredentialRow {
  access_key_id: string;
  account_id: string;
  user_name: string;
  region: string;
  password_salt: string;
  password_hash: string;
  sealed_secret: string | null;
  created_at: number;
  revoked_at: number | null;
}

const toCredential = (row: CredentialRow): Credential => ({
  accessKeyId: row.access_key_id,
  accountId: row.account_id,
  userName: row.user_name,
  region: row.region,
  password: { salt: row.password_salt, hash: row.password_hash },
  sealedSecret: row.sealed_secret,
  createdAt: new Date(row.created_at),
  revokedAt: row.revoked_at === null ? null : new Date(row.revoked_at),
});

export class SqliteCredentialStore implements CredentialStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(credential: NewCredential): Promise<Credential> {
    const createdAt = Date.now();
    try {
      prepared(this.db, 
          `INSERT INTO credentials (access_key_id, account_id, user_name, region, password_salt, password_hash, sealed_secret, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(credential.accessKeyId, credential.accountId, credential.userName, credential.region, credential.password.salt, credential.password.hash, credential.sealedSecret ?? null, createdAt);
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`credential ${credential.accessKeyId}`);
      throw error;
    }
    return { ...credential, sealedSecret: credential.sealedSecret ?? null, createdAt: new Date(createdAt), revokedAt: null };
  }

  async get(accessKeyId: string): Promise<Credential | null> {
    const row = prepared(this.db, 'SELECT * FROM credentials WHERE access_key_id = ?').get(accessKeyId) as CredentialRow | undefined;
    return row ? toCredential(row) : null;
  }

  async list(accountId?: string): Promise<Credential[]> {
    const rows = accountId
      ? prepared(this.db, 'SELECT * FROM credentials WHERE account_id = ? ORDER BY created_at, access_key_id').all(accountId)
      : prepared(this.db, 'SELECT * FROM credentials ORDER BY account_id, created_at, access_key_id').all();
    return (rows as CredentialRow[]).map(toCredential);
  }

  async revoke(accessKeyId: string): Promise<boolean> {
    const result = prepared(this.db, 'UPDATE credentials SET revoked_at = ? WHERE access_key_id = ? AND revoked_at IS NULL').run(Date.now(), accessKeyId);
    return result.changes === 1;
  }
}
