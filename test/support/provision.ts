import { hashPassword } from '../../src/auth/credential-hash.js';
import { generateAccessKeyId, generateAccountId, generateSecretAccessKey } from '../../src/auth/key-generator.js';
import { deriveSmtpPassword } from '../../src/auth/smtp-password.js';
import { SqliteControlStore } from '../../src/store/sqlite/sqlite-control-store.js';

export interface TestCredential {
  accountId: string;
  user: string;
  password: string;
}

/** Creates an account and an SMTP credential directly in a data directory's control store. */
export async function provisionCredential(dataDir: string, region = 'us-east-1', accountId = generateAccountId()): Promise<TestCredential> {
  const store = SqliteControlStore.open(dataDir);
  try {
    if (!(await store.accounts.get(accountId))) {
      await store.accounts.create({ id: accountId, sandbox: true, sendingEnabled: true, maxSendRate: 14, max24HourSend: 50_000 });
    }
    const user = generateAccessKeyId();
    const password = deriveSmtpPassword(generateSecretAccessKey(), region);
    await store.credentials.create({ accessKeyId: user, accountId, userName: 'test-user', region, password: hashPassword(password) });
    return { accountId, user, password };
  } finally {
    await store.close();
  }
}
