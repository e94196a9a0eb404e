import type { Redis } from 'ioredis';
import type { Credential, CredentialStore, NewCredential } from '../control-store.js';
import type { ControlKeys } from './control-keys.js';
import { runScript } from './control-scripts.js';
import { fromHash, insertRecord, readRecords } from './hash-records.js';

const DATES = ['createdAt', 'revokedAt'] as const;

/** Byte order, as SQLite's and Redis's comparisons: account ids first, then the index's creation order. */
const byAccount = (a: Credential, b: Credential) => (a.accountId < b.accountId ? -1 : a.accountId > b.accountId ? 1 : 0);

export class RedisCredentialStore implements CredentialStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ControlKeys,
  ) {}

  async create(credential: NewCredential): Promise<Credential> {
    return this.restore({ ...credential, sealedSecret: credential.sealedSecret ?? null, createdAt: new Date(), revokedAt: null });
  }

  /** Stores a credential as it is (an import keeps its times and revocation). */
  async restore(credential: Credential): Promise<Credential> {
    const createdAt = credential.createdAt.getTime();
    await insertRecord(this.redis, {
      key: this.keys.credential(credential.accessKeyId),
      what: `credential ${credential.accessKeyId}`,
      account: { id: credential.accountId, key: this.keys.account(credential.accountId) },
      indexes: [
        [this.keys.credentials, createdAt],
        [this.keys.accountCredentials(credential.accountId), createdAt],
      ],
      member: credential.accessKeyId,
      record: credential,
    });
    return credential;
  }

  async get(accessKeyId: string): Promise<Credential | null> {
    return fromHash<Credential>(await this.redis.hgetall(this.keys.credential(accessKeyId)), DATES);
  }

  async list(accountId?: string): Promise<Credential[]> {
    const ids = await this.redis.zrange(accountId ? this.keys.accountCredentials(accountId) : this.keys.credentials, 0, -1);
    const credentials = await readRecords<Credential>(this.redis, ids.map((id) => this.keys.credential(id)), DATES);
    return accountId ? credentials : credentials.sort(byAccount);
  }

  async revoke(accessKeyId: string): Promise<boolean> {
    return (await runScript(this.redis, 'relaygateRevokeCredential', [this.keys.credential(accessKeyId)], [Date.now()])) === 1;
  }
}
