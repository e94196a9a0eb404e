import { join } from 'node:path';
import { issueCredential, type UserPolicyChoice } from '../../src/auth/credential-issuer.js';
import { SecretBox } from '../../src/auth/secret-box.js';
import { generateAccessKeyId, generateAccountId, generateSecretAccessKey } from '../../src/auth/key-generator.js';
import { deriveSmtpPassword } from '../../src/auth/smtp-password.js';
import type { Account } from '../../src/store/control-store.js';
import type { NewIdentity } from '../../src/store/identities.js';
import { SqliteControlStore } from '../../src/store/sqlite/sqlite-control-store.js';
import { openRedisControlStore } from '../../src/store/open-control-store.js';
import { createLogger } from '../../src/log/logger.js';

export interface TestCredential {
  accountId: string;
  user: string;
  userName: string;
  password: string;
  /** The secret access key, for the HTTP API (SigV4); sealed with the data directory's default secret.key. */
  secretAccessKey: string;
}

export interface ProvisionOptions {
  region?: string;
  accountId?: string;
  /** Account settings; by default out of the sandbox with limits no test reaches. */
  account?: Partial<Omit<Account, 'id' | 'createdAt'>>;
  /** Identities verified by the operator; default: example.com. */
  verifiedIdentities?: string[];
  /** Configuration sets to create; default: ConfigSet, the name the SES guide's examples use. */
  configurationSets?: string[];
  userName?: string;
  /** The user's policy (default: the sending policy, ses:SendRawEmail); full-access for the HTTP API's management calls. */
  policy?: UserPolicyChoice;
}

/** A cluster's control plane: its Redis, key prefix and the secret key file every node shares (http.secretKeyFile). */
export interface ClusterStore {
  redisUrl: string;
  keyPrefix: string;
  secretKeyFile: string;
}

/** A data directory's control.db (secrets sealed with its secret.key), or a cluster's Redis. */
export type StoreLocation = string | ClusterStore;

/** A verified identity as an operator's `identity create NAME --verified` leaves it. */
export function verifiedIdentity(accountId: string, name: string): NewIdentity {
  return {
    accountId,
    name,
    type: name.includes('@') ? 'EmailAddress' : 'Domain',
    status: 'Success',
    verifiedBy: 'operator',
    verificationToken: 'test',
    pendingSince: null,
    lastCheckedAt: null,
    dkim: null,
    mailFrom: null,
    defaultConfigurationSet: null,
  };
}

/** Creates an account, its verified identities and an SMTP credential directly in a control store. */
export async function provisionCredential(location: StoreLocation, options: ProvisionOptions = {}): Promise<TestCredential> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? generateAccountId();
  const store =
    typeof location === 'string' ? SqliteControlStore.open(location) : await openRedisControlStore(location.redisUrl, location.keyPrefix, createLogger({ level: 'silent' }));
  const secretKeyFile = typeof location === 'string' ? join(location, 'secret.key') : location.secretKeyFile;
  try {
    if (!(await store.accounts.get(accountId))) {
      await store.accounts.create({ id: accountId, sandbox: false, sendingEnabled: true, maxSendRate: 100_000, max24HourSend: -1, ...options.account });
      for (const name of options.verifiedIdentities ?? ['example.com']) await store.identities.create(verifiedIdentity(accountId, name));
      for (const name of options.configurationSets ?? ['ConfigSet']) {
        await store.configurationSets.create({ accountId, name, sendingEnabled: true, tlsPolicy: 'Optional', sendingPoolName: null, suppressedReasons: [], eventDestinations: [] });
      }
    }
    const user = generateAccessKeyId();
    const secretAccessKey = generateSecretAccessKey();
    const password = deriveSmtpPassword(secretAccessKey, region);
    const userName = options.userName ?? 'test-user';
    const secret = { secretAccessKey, box: SecretBox.open(secretKeyFile) };
    await issueCredential(store, { accountId, accessKeyId: user, userName, region, smtpPassword: password, secret, ...(options.policy ? { policy: options.policy } : {}) });
    return { accountId, user, userName, password, secretAccessKey };
  } finally {
    await store.close();
  }
}
