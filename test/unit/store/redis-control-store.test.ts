import test, { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RedisUnavailableError } from '../../../src/cluster/redis-ready.js';
import { openRedisControlStore } from '../../../src/store/open-control-store.js';
import { deleteKeysUnder, keysUnder, TEST_REDIS_URL, uniqueKeyPrefix } from '../../support/redis-keys.js';
import { controlStoreBehaviour } from './control-store-behaviour.js';

const QUIET = { warn: () => undefined };
const RUN_PREFIX = uniqueKeyPrefix('control-store');
let stores = 0;

describe('RedisControlStore', () => {
  after(async () => {
    await deleteKeysUnder(RUN_PREFIX);
  });

  controlStoreBehaviour(() => openRedisControlStore(TEST_REDIS_URL, `${RUN_PREFIX}${++stores}:`, QUIET));

  test('writes only under its prefix and "cp:", in the documented layout', async () => {
    const prefix = `${RUN_PREFIX}layout:`;
    const store = await openRedisControlStore(TEST_REDIS_URL, prefix, QUIET);
    try {
      await store.accounts.create({ id: '111122223333', sandbox: true, sendingEnabled: true, maxSendRate: 1, max24HourSend: 200 });
      await store.credentials.create({ accessKeyId: 'AKIAEXAMPLE00000', accountId: '111122223333', userName: 'u', region: 'us-east-1', password: { salt: 's', hash: 'h' } });
      await store.identities.create({ accountId: '111122223333', name: 'example.com', type: 'Domain', status: 'Success', verifiedBy: 'operator', verificationToken: 't', pendingSince: null, lastCheckedAt: null, dkim: null, mailFrom: null, defaultConfigurationSet: null });
      await store.configurationSets.create({ accountId: '111122223333', name: 'ConfigSet', sendingEnabled: true, tlsPolicy: 'Optional', sendingPoolName: null, suppressedReasons: null, eventDestinations: [] });
      await store.policies.put({ kind: 'user', accountId: '111122223333', userName: 'u' }, 'P', '{}');
      await store.suppression.put([{ accountId: '111122223333', emailAddress: 'a@example.org', reason: 'BOUNCE', messageId: null, feedbackId: null }]);
      await store.suppression.setReasons('111122223333', ['BOUNCE']);
      const cp = `${prefix}cp:`;
      assert.deepEqual(await keysUnder(prefix), [
        `${cp}account:111122223333`,
        `${cp}account:111122223333:configsets`,
        `${cp}account:111122223333:credentials`,
        `${cp}account:111122223333:identities`,
        `${cp}account:111122223333:policy-targets`,
        `${cp}accounts`,
        `${cp}configset:111122223333:ConfigSet`,
        `${cp}credential:AKIAEXAMPLE00000`,
        `${cp}credentials`,
        `${cp}identity:111122223333:example.com`,
        `${cp}policies:111122223333:user:u`,
        `${cp}suppression:111122223333`,
        `${cp}suppression:111122223333:by-time`,
        `${cp}suppression:111122223333:by-time:BOUNCE`,
        `${cp}suppression:111122223333:reasons`,
      ]);
      assert.equal(await store.holdsData(), true);
      assert.equal(await store.clear(), 15);
      assert.equal(await store.holdsData(), false);
    } finally {
      await store.close();
    }
  });

  test('a Redis that does not answer: one clear error naming it without its password', async () => {
    await assert.rejects(openRedisControlStore('redis://:s3cret@127.0.0.1:1/0', RUN_PREFIX, QUIET), (error: Error) => {
      assert.ok(error instanceof RedisUnavailableError);
      assert.match(error.message, /^cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1\/0 within 10 s: connect ECONNREFUSED 127\.0\.0\.1:1$/);
      return true;
    });
  });
});
