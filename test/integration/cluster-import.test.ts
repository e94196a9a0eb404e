import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { generateDkimKey } from '../../src/message/dkim/index.js';
import { SqliteControlStore } from '../../src/store/sqlite/sqlite-control-store.js';
import { cli } from '../support/cli-runner.js';
import type { RunResult } from '../support/external-tools.js';
import { tempDir } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueKeyPrefix } from '../support/redis-keys.js';

const ACCOUNT = '111122223333';
const PARTNER_POLICY = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["444455556666"]},"Action":["ses:SendRawEmail"],"Resource":"*"}]}';

/** The stdout of a command that must succeed. */
async function ok(result: Promise<RunResult>): Promise<string> {
  const done = await result;
  assert.equal(done.code, 0, done.stderr);
  return done.stdout;
}

/** An embedded control store with a bit of everything: two users (one revoked), DKIM and MAIL FROM, a set with a destination, policies, suppressions. */
async function provisionSqlite(dataDir: string): Promise<TestCredential> {
  const alice = await provisionCredential(dataDir, { accountId: ACCOUNT, userName: 'alice' });
  const bob = await provisionCredential(dataDir, { accountId: ACCOUNT, userName: 'bob' });
  const store = SqliteControlStore.open(dataDir);
  try {
    await store.credentials.revoke(bob.user);
    await store.identities.update(ACCOUNT, 'example.com', {
      dkim: { enabled: true, origin: 'RELAYGATE', keys: [{ selector: 'rg1', ...generateDkimKey('ed25519') }] },
      mailFrom: { domain: 'mail.example.com', behaviorOnMxFailure: 'UseDefaultValue', status: 'Pending', pendingSince: Date.now() },
      defaultConfigurationSet: 'ConfigSet',
    });
    await store.configurationSets.update(ACCOUNT, 'ConfigSet', {
      tlsPolicy: 'Require',
      suppressedReasons: ['COMPLAINT'],
      eventDestinations: [{ name: 'hooks', enabled: true, eventTypes: ['SEND', 'BOUNCE'], target: 'https://hooks.example/events', createdAt: Date.now() }],
    });
    await store.policies.put({ kind: 'identity', accountId: ACCOUNT, identity: 'example.com' }, 'Partner', PARTNER_POLICY);
    const address = (name: string, reason: 'BOUNCE' | 'COMPLAINT') => ({ accountId: ACCOUNT, emailAddress: `${name}@example.net`, reason, messageId: null, feedbackId: null });
    await store.suppression.put([address('one', 'BOUNCE'), address('two', 'COMPLAINT'), address('three', 'BOUNCE'), address('four', 'BOUNCE')]);
    await store.suppression.setReasons(ACCOUNT, ['BOUNCE']);
  } finally {
    await store.close();
  }
  return alice;
}

describe('relaygate cluster import, then the CLI on Redis', () => {
  const keyPrefix = uniqueKeyPrefix('cluster-import');
  const sqliteDir = tempDir();
  const redisDir = tempDir();
  const configFile = join(tempDir(), 'relaygate.yaml');
  writeFileSync(configFile, stringify({ cluster: { keyPrefix } }));
  /** A command on the embedded store of sqliteDir. */
  const onSqlite = (...args: string[]) => cli(sqliteDir, '--config', configFile, ...args);
  /** The same command on the Redis, from a data directory without a control store. */
  const onRedis = (...args: string[]) => cli(redisDir, '--config', configFile, '--redis', TEST_REDIS_URL, ...args);
  let alice: TestCredential;

  before(async () => {
    alice = await provisionSqlite(sqliteDir);
  });
  after(() => deleteKeysUnder(keyPrefix));

  test('copies control.db and prints what it copied; a second import is refused; --force replaces', async () => {
    const imported = await onSqlite('--redis', TEST_REDIS_URL, 'cluster', 'import');
    assert.equal(imported.stderr, '');
    assert.equal(
      imported.stdout,
      [
        `imported ${join(sqliteDir, 'control.db')} into ${TEST_REDIS_URL} under "${keyPrefix}":`,
        'KIND                    COUNT',
        'accounts                1',
        'credentials             2',
        'identities              1',
        'configuration sets      1',
        'policies                3',
        'suppressed addresses    4',
        'suppression attributes  1',
        '',
      ].join('\n'),
    );
    const again = await onSqlite('--redis', TEST_REDIS_URL, 'cluster', 'import');
    assert.equal(again.code, 1);
    assert.equal(again.stderr, `relaygate: ${TEST_REDIS_URL} already holds a control plane under "${keyPrefix}"; nothing was imported (--force replaces it, or choose another cluster.keyPrefix)\n`);
    assert.equal(await ok(onRedis('account', 'create', '--id', '999900001111')), 'created account 999900001111 (in the sandbox)\n');
    assert.deepEqual(JSON.parse(await ok(onSqlite('--redis', TEST_REDIS_URL, 'cluster', 'import', '--force', '--json'))), {
      Redis: TEST_REDIS_URL,
      KeyPrefix: keyPrefix,
      Replaced: true,
      Imported: { accounts: 1, credentials: 2, identities: 1, configurationSets: 1, policies: 3, suppressedDestinations: 4, suppressionAttributes: 1 },
    });
  });

  test('the commands read from Redis exactly what they read from the SQLite store it was imported from', async () => {
    const reads = [
      ['account', 'list'],
      ['credentials', 'list'],
      ['identity', 'show', 'example.com', '--account', ACCOUNT],
      ['configset', 'show', 'ConfigSet', '--account', ACCOUNT],
      ['policy', 'list', '--account', ACCOUNT, '--identity', 'example.com'],
      ['suppression', 'list', '--account', ACCOUNT, '--page-size', '3'],
      ['suppression', 'attributes', '--account', ACCOUNT],
    ];
    for (const args of reads) {
      const expected = await ok(onSqlite(...args, '--json'));
      assert.equal(await ok(onRedis(...args, '--json')), expected, args.join(' '));
    }
    assert.equal(existsSync(join(redisDir, 'control.db')), false, 'the Redis commands never opened an embedded store');
  });

  test('the commands change the control plane in Redis, and only there', async () => {
    assert.equal((await onRedis('account', 'create', '--id', ACCOUNT)).stderr, `relaygate: account ${ACCOUNT} already exists\n`);
    assert.equal(await ok(onRedis('credentials', 'revoke', alice.user)), `revoked ${alice.user}\n`);
    assert.equal(await ok(onRedis('suppression', 'delete', 'one@example.net', '--account', ACCOUNT)), 'removed one@example.net from the suppression list\n');
    assert.equal(await ok(onRedis('identity', 'delete', 'example.com', '--account', ACCOUNT)), 'deleted example.com\n');

    const statuses = (json: string) => (JSON.parse(json) as Array<{ UserName: string; Status: string }>).map((credential) => `${credential.UserName}:${credential.Status}`);
    assert.deepEqual(statuses(await ok(onRedis('credentials', 'list', '--json'))), ['alice:Revoked', 'bob:Revoked']);
    assert.deepEqual(statuses(await ok(onSqlite('credentials', 'list', '--json'))), ['alice:Active', 'bob:Revoked']);
    assert.equal(await ok(onRedis('policy', 'list', '--account', ACCOUNT, '--identity', 'example.com')), '(none)\n', 'deleted with the identity');
    const suppressed = (json: string) => (JSON.parse(json) as { SuppressedDestinationSummaries: Array<{ EmailAddress: string }> }).SuppressedDestinationSummaries.map((entry) => entry.EmailAddress).sort();
    assert.deepEqual(suppressed(await ok(onRedis('suppression', 'list', '--account', ACCOUNT, '--json'))), ['four@example.net', 'three@example.net', 'two@example.net']);
    assert.match(await ok(onSqlite('identity', 'list')), /^example\.com +Domain +111122223333 +Success +on +mail\.example\.com \(Pending\)$/m);
  });

  test('a Redis that is not there: one line naming it; an import needs a Redis', async () => {
    const result = await cli(redisDir, '--redis', 'redis://127.0.0.1:1/0', 'account', 'list');
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'relaygate: cannot reach Redis at redis://127.0.0.1:1/0 within 10 s: connect ECONNREFUSED 127.0.0.1:1\n');
    const noRedis = await cli(sqliteDir, 'cluster', 'import');
    assert.equal(noRedis.stderr, 'relaygate: cluster import needs the Redis to copy into: --redis redis://HOST:6379/0 or cluster.redisUrl\n');
  });
});
