import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import pino from 'pino';
import { ClusterKeys } from '../../../src/cluster/cluster-keys.js';
import { FeedbackInbox } from '../../../src/cluster/feedback-inbox.js';
import { RedisFeedbackRouter } from '../../../src/cluster/feedback-stream.js';
import { connectRedis } from '../../../src/cluster/redis-connection.js';
import type { RoutedReport } from '../../../src/feedback/intake/feedback-router.js';
import { deleteKeys, TEST_REDIS_URL, testKeyPrefix, testRedis } from '../../support/test-redis.js';
import { waitUntil } from '../../support/wait-until.js';

const log = pino({ level: 'silent' });

describe('feedback passed between nodes through Redis streams', () => {
  const prefix = testKeyPrefix('inbox');
  const keys = new ClusterKeys(prefix);
  let redis: Redis;

  before(() => {
    redis = testRedis();
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  test('a report reaches its node byte for byte; a failure leaves it pending and it is applied again, then removed', async () => {
    const router = new RedisFeedbackRouter(redis, keys);
    assert.equal(await router.isNode('owner'), false, 'a node that never joined');
    await redis.sadd(keys.nodes, 'owner');
    assert.equal(await router.isNode('owner'), true);
    const report: RoutedReport = { mailFrom: '', recipients: ['b-owner-1-0123456789abc@feedback.test'], remoteAddress: '192.0.2.7', via: 'taker', raw: Buffer.from([0x46, 0x72, 0x6f, 0x6d, 0x3a, 0xff, 0x00, 0x0d, 0x0a]) };
    await router.forward('owner', report);
    await redis.xadd(keys.feedback('owner'), '*', 'unexpected', 'fields');

    const received: RoutedReport[] = [];
    let failures = 1;
    const inbox = new FeedbackInbox(
      connectRedis(TEST_REDIS_URL, log, 'test-inbox'),
      keys,
      'owner',
      async (entry) => {
        received.push(entry);
        if (failures-- > 0) throw new Error('the queue database is busy');
      },
      log,
    );
    inbox.start();
    try {
      await waitUntil(() => received.length === 2, 'the report applied after one failure', 10_000);
      assert.deepEqual(received[1], report);
      assert.deepEqual(received[0], report, 'the same entry, read again from the pending list');
      const deadline = Date.now() + 5000;
      while ((await redis.xlen(keys.feedback('owner'))) > 0 && Date.now() < deadline) await sleep(50);
      assert.equal(await redis.xlen(keys.feedback('owner')), 0, 'applied and unreadable entries are acknowledged and deleted');
      assert.equal(received.length, 2, 'the unreadable entry is not applied');
    } finally {
      await inbox.stop();
    }
  });
});
