import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Redis } from 'ioredis';
import { buildConfig } from '../../../src/config/load.js';
import { mailEvent, type MessageForEvents } from '../../../src/events/event-builders.js';
import type { MailEvent } from '../../../src/events/mail-event.js';
import { statisticsRecorder } from '../../../src/feedback/statistics/statistics-recorder.js';
import { RedisSendStatistics } from '../../../src/queue/redis-send-statistics.js';
import { BUCKET_MS, bucketOf } from '../../../src/queue/send-statistics.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { deleteKeys, testKeyPrefix, testRedis } from '../../support/test-redis.js';

const ACCOUNT = '111122223333';
const NOW = Date.now();
const EARLIER = NOW - 2 * BUCKET_MS;
const log = pino({ level: 'silent' });

const message = (id: string, recipients: string[], configurationSet: string | null): MessageForEvents => ({
  id, accountId: ACCOUNT, mailFrom: 'sender@example.com', receivedAt: NOW, recipients, configurationSet, tags: {},
});
const send = (id: string, count: number, at: number, set: string | null = null) =>
  mailEvent('Send', message(id, Array.from({ length: count }, (_, n) => `r${n}@example.org`), set), at, {});
const hardBounce = (id: string, at: number, set: string | null = null) =>
  mailEvent('Bounce', message(id, ['r0@example.org'], set), at, { bounceType: 'Permanent', bounceSubType: 'General', bouncedRecipients: [{ emailAddress: 'r0@example.org' }], timestamp: new Date(at).toISOString(), feedbackId: `f-${id}` });

/** A node: its own queue database (event log) and its view of the fleet's statistics in Redis. */
interface TestNode {
  queue: SqliteQueueStore;
  statistics: RedisSendStatistics;
  /** Runs a freshly started recorder (as after a restart) over the node's events after `from`, as the consumer would hand them. */
  count(from?: number): Promise<void>;
}

describe('fleet statistics in Redis', () => {
  const prefix = testKeyPrefix('statistics');
  let redis: Redis;
  let store: SqliteControlStore;
  const config = buildConfig({}).reputation;

  function node(nodeId: string): TestNode {
    const queue = SqliteQueueStore.open(tempDir());
    const statistics = new RedisSendStatistics(redis, prefix, { nodeId, logId: queue.instanceId() });
    return {
      queue,
      statistics,
      async count(from = 0) {
        const events = queue.events.read(`reader-${Math.random()}`, 1000).filter((event) => event.seq > from);
        await statisticsRecorder({ statistics, store, config, log }).handle(events);
      },
    };
  }
  const append = (target: TestNode, events: MailEvent[]) => target.queue.events.append(events);

  before(() => {
    redis = testRedis();
    store = SqliteControlStore.open(tempDir());
  });
  after(async () => {
    await deleteKeys(redis, prefix);
    redis.disconnect();
    await store.close();
  });

  test('two nodes count their own events into the same buckets: points and totals are the fleet\'s sums', async () => {
    const [a, b] = [node('a'), node('b')];
    append(a, [send('a1', 3, EARLIER, 'marketing'), send('a2', 2, NOW), hardBounce('a1', NOW, 'marketing')]);
    append(b, [send('b1', 4, NOW, 'marketing'), hardBounce('b1', NOW, 'marketing')]);
    await a.count();
    await b.count();
    const reader = new RedisSendStatistics(redis, prefix);
    assert.deepEqual(await reader.dataPoints(ACCOUNT, NOW - 14 * 86_400_000), [
      { bucket: bucketOf(EARLIER), deliveryAttempts: 3, bounces: 0, complaints: 0, rejects: 0, reputationSent: 3, reputationBounces: 0, reputationComplaints: 0 },
      { bucket: bucketOf(NOW), deliveryAttempts: 6, bounces: 2, complaints: 0, rejects: 0, reputationSent: 6, reputationBounces: 2, reputationComplaints: 0 },
    ]);
    assert.deepEqual(await reader.dataPoints(ACCOUNT, bucketOf(NOW)), [
      { bucket: bucketOf(NOW), deliveryAttempts: 6, bounces: 2, complaints: 0, rejects: 0, reputationSent: 6, reputationBounces: 2, reputationComplaints: 0 },
    ]);
    assert.equal((await reader.totals(ACCOUNT, 0)).deliveryAttempts, 9);
    assert.deepEqual(await reader.totals(ACCOUNT, 0, 'marketing'), { deliveryAttempts: 7, bounces: 2, complaints: 0, rejects: 0, reputationSent: 7, reputationBounces: 2, reputationComplaints: 0 });
    assert.equal((await reader.totals(ACCOUNT, 0, '')).deliveryAttempts, 2, 'mail sent without a configuration set');
    assert.deepEqual(await reader.dataPoints('999988887777', 0), [], 'another account');
    const ttl = await redis.pttl(`${prefix}stats:${ACCOUNT}:${bucketOf(NOW)}`);
    assert.ok(ttl > 14 * 86_400_000 && ttl <= 15 * 86_400_000, `a bucket expires 15 days after it began (${ttl} ms)`);
    a.queue.close();
    b.queue.close();
  });

  test('a batch counted again after a restart (its cursor in queue.db not moved) counts once; a new queue database starts afresh', async () => {
    const c = node('c');
    const reader = new RedisSendStatistics(redis, prefix);
    const before = (await reader.totals(ACCOUNT, 0)).deliveryAttempts;
    append(c, [send('c1', 5, NOW)]);
    await c.count();
    append(c, [send('c2', 1, NOW)]);
    // The node restarted before moving its cursor in queue.db: the consumer hands the first batch again, with the new event.
    await c.count();
    assert.equal((await reader.totals(ACCOUNT, 0)).deliveryAttempts, before + 6);
    assert.equal(await c.statistics.countedThrough('send-statistics'), 2);

    // The same node id with a new data directory: its log starts at seq 1 again and is counted.
    const fresh = node('c');
    append(fresh, [send('c3', 7, NOW)]);
    await fresh.count();
    assert.equal((await reader.totals(ACCOUNT, 0)).deliveryAttempts, before + 13);
    c.queue.close();
    fresh.queue.close();
  });

  test('statistics opened for reading have no cursor to move', async () => {
    await assert.rejects(new RedisSendStatistics(redis, prefix).apply([], 'send-statistics', 1), /no cursor/);
  });
});
