import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { callRedis, isRedisUnavailable } from '../../src/cluster/redis-unavailable.js';
import { connectRedis } from '../../src/cluster/redis-connection.js';
import { StoreUnavailableError } from '../../src/common/store-unavailable.js';
import { capturingLogger } from '../support/fault-watch.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import { waitUntil } from '../support/wait-until.js';

const KEY = 'relaygate-test:redis-unavailable';

/** Which failures of a real Redis, through the gateway's connection settings, count as "Redis unreachable". */
describe('Redis failures as StoreUnavailableError', () => {
  let server: TestRedis;
  let redis: Redis;

  before(async () => {
    server = await startTestRedis();
    redis = connectRedis(server.url, capturingLogger().log, 'test');
    await waitUntil(() => redis.status === 'ready', 'the connection to be ready', 10_000);
  });
  after(async () => {
    redis.disconnect();
    await server.stop();
  });

  const unavailable = (cause: RegExp) => (error: unknown) => {
    assert.ok(error instanceof StoreUnavailableError, String(error));
    assert.equal(error.store, 'control store');
    assert.match((error.cause as Error).message, cause);
    return true;
  };

  test('a wrong command is not an outage: its error passes unchanged', async () => {
    await callRedis('control store', () => redis.set(KEY, 'text'));
    await assert.rejects(
      callRedis('control store', () => redis.lpush(KEY, 'x')),
      (error: Error) => !(error instanceof StoreUnavailableError) && error.message.startsWith('WRONGTYPE'),
    );
  });

  test('a command in flight when Redis dies, and commands while it is down, fail as unavailable at once', async () => {
    const inFlight = callRedis('control store', () => redis.blpop(`${KEY}:list`, 5));
    await server.stop('SIGKILL');
    await assert.rejects(inFlight, unavailable(/max retries per request/));
    const started = Date.now();
    await assert.rejects(callRedis('control store', () => redis.get(KEY)), unavailable(/Stream isn't writeable/));
    assert.ok(Date.now() - started < 1000, 'no wait for a timeout');
  });

  test('the connection comes back by itself when Redis does, with the data', async () => {
    await server.start();
    await waitUntil(() => redis.status === 'ready', 'the reconnection', 10_000);
    assert.equal(await callRedis('control store', () => redis.get(KEY)), 'text');
  });

  test('a Redis that does not answer fails the command after its timeout', async () => {
    server.pause();
    try {
      await assert.rejects(callRedis('control store', () => redis.get(KEY)), unavailable(/Command timed out/));
    } finally {
      server.resume();
    }
    assert.equal(await callRedis('control store', () => redis.get(KEY)), 'text');
    await redis.del(KEY);
  });

  test("Redis's replies while it cannot serve (loading, no primary, failover) are outages too", () => {
    for (const text of ['LOADING Redis is loading the dataset in memory', 'MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no', "READONLY You can't write against a read only replica.", 'TRYAGAIN Multiple keys request during rehashing of slot']) {
      assert.equal(isRedisUnavailable(new Error(text)), true, text);
    }
    assert.equal(isRedisUnavailable(new Error('ERR unknown command')), false);
    assert.equal(isRedisUnavailable(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' })), true);
  });
});
