import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { generateDkimKey } from '../../../src/message/dkim/index.js';
import type { ControlStore } from '../../../src/store/control-store.js';
import { openRedisControlStore } from '../../../src/store/open-control-store.js';
import { copyControlStore } from '../../../src/store/redis/copy-control-store.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { verifiedIdentity } from '../../support/provision.js';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueKeyPrefix } from '../../support/redis-keys.js';

const PREFIX = uniqueKeyPrefix('copy-control-store');
const ACCOUNTS = ['111122223333', '444455556666'];
after(() => deleteKeysUnder(PREFIX));

/** Everything a store holds for the accounts, through its interface. */
async function contents(store: ControlStore) {
  const accounts = await store.accounts.list();
  const perAccount = await Promise.all(
    accounts.map(async (account) => {
      const targets = await store.policies.targets(account.id);
      return {
        policies: await Promise.all(targets.map((target) => store.policies.list(target))),
        suppression: await store.suppression.list(account.id, { pageSize: 100_000 }),
        reasons: await store.suppression.reasons(account.id),
      };
    }),
  );
  return { accounts, credentials: await store.credentials.list(), identities: await store.identities.list(), configurationSets: await store.configurationSets.list(), perAccount };
}

test('copies every record of a SQLite control store into Redis unchanged, times and revocations included', async () => {
  const source = SqliteControlStore.open(tempDir());
  const target = await openRedisControlStore(TEST_REDIS_URL, PREFIX, { warn: () => undefined });
  try {
    const [first, second] = ACCOUNTS as [string, string];
    await source.accounts.create({ id: first, sandbox: false, sendingEnabled: false, maxSendRate: 14, max24HourSend: 50_000 });
    await source.accounts.create({ id: second, sandbox: true, sendingEnabled: true, maxSendRate: 1, max24HourSend: 200 });
    await source.credentials.create({ accessKeyId: 'AKIAREVOKED00000', accountId: first, userName: 'old', region: 'us-east-1', password: { salt: 's1', hash: 'h1' } });
    await source.credentials.revoke('AKIAREVOKED00000');
    await source.credentials.create({ accessKeyId: 'AKIAACTIVE000000', accountId: first, userName: 'ses-smtp-user', region: 'us-east-1', password: { salt: 's2', hash: 'h2' }, sealedSecret: 'v1.sealed' });
    await source.identities.create({
      ...verifiedIdentity(first, 'example.com'),
      dkim: { enabled: true, origin: 'EXTERNAL', keys: [{ selector: 's1', ...generateDkimKey('ed25519') }] },
      mailFrom: { domain: 'mail.example.com', behaviorOnMxFailure: 'RejectMessage', status: 'Pending', pendingSince: 1_764_000_000_000 },
      defaultConfigurationSet: 'ConfigSet',
      feedbackForwarding: false,
      notifications: { Complaint: { target: 'https://hooks.example/c', includeOriginalHeaders: false, since: 1_764_000_000_001 } },
    });
    await source.identities.create({ ...verifiedIdentity(second, 'a@example.org'), status: 'Pending', verifiedBy: null, pendingSince: new Date(1_764_000_000_002) });
    await source.configurationSets.create({
      accountId: first,
      name: 'ConfigSet',
      sendingEnabled: true,
      tlsPolicy: 'Require',
      sendingPoolName: 'warm',
      suppressedReasons: [],
      eventDestinations: [{ name: 'hooks', enabled: true, eventTypes: ['SEND', 'BOUNCE'], target: 'https://hooks.example/e', includeOriginalHeaders: false, createdAt: 1_764_000_000_003 }],
    });
    const allow = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}';
    await source.policies.put({ kind: 'user', accountId: first, userName: 'ses-smtp-user' }, 'AmazonSesSendingAccess', allow);
    await source.policies.put({ kind: 'user', accountId: first, userName: 'no-credential-yet' }, 'Send', allow);
    await source.policies.put({ kind: 'identity', accountId: first, identity: 'example.com' }, 'Partner', allow);
    await source.suppression.put(
      Array.from({ length: 25_000 }, (_, n) => ({ accountId: n % 2 ? first : second, emailAddress: `s${n}@example.net`, reason: n % 3 ? 'BOUNCE' : 'COMPLAINT', lastUpdateTime: new Date(1_764_000_000_000 + (n % 7)), messageId: n % 5 ? null : `m${n}`, feedbackId: null }) as const),
    );
    await source.suppression.put([{ accountId: '999999999999', emailAddress: 'orphan@example.net', reason: 'BOUNCE', messageId: null, feedbackId: null }]);
    await source.suppression.setReasons(second, ['COMPLAINT']);

    const counts = await copyControlStore(source, target);
    assert.deepEqual(counts, { accounts: 2, credentials: 2, identities: 2, configurationSets: 1, policies: 3, suppressedDestinations: 25_000, suppressionAttributes: 1 });
    assert.deepEqual(await contents(target), await contents(source));
    assert.equal(await target.suppression.get('999999999999', 'orphan@example.net'), null, 'entries of accounts that do not exist stay behind');
  } finally {
    await source.close();
    await target.close();
  }
});
