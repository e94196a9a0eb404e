import test, { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { buildConfig } from '../../../src/config/load.js';
import { GraceSendLimiter, LimiterUnavailableError, RedisSendLimiter } from '../../../src/ratelimit/index.js';
import { openSendLimiter } from '../../../src/ratelimit/open-send-limiter.js';
import { createLogger } from '../../../src/log/logger.js';
import { T0, send, sendLimiterBehaviour } from '../../unit/ratelimit/send-limiter-behaviour.js';
import { countCommands, refusedPortUrl, testKeySpace, TEST_REDIS_URL } from '../../support/test-redis.js';

const space = testKeySpace('send-limiter');
after(() => space.cleanUp());
const redis = space.connect();
let limiters = 0;
/** Each limiter its own prefix, so every contract test starts empty. */
const freshPrefix = () => `${space.prefix}${++limiters}:`;
const sandbox = { key: 'acct', maxSendRate: 1, max24HourSend: 200 };

describe('RedisSendLimiter on the caller’s clock', () => {
  sendLimiterBehaviour(() => new RedisSendLimiter(redis, { keyPrefix: freshPrefix(), clock: 'caller' }));
});

describe('RedisSendLimiter', () => {
  test('acquire is one command (one round trip), whether it allows or refuses', async () => {
    const limiter = new RedisSendLimiter(redis, { keyPrefix: freshPrefix(), clock: 'caller' });
    await send(limiter, sandbox, 1, T0);
    const commands = countCommands(redis);
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 1000), { ok: true });
    assert.equal(commands.sent, 1);
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 1000), { ok: false, reason: 'rate', retryAfterMs: 1000 });
    assert.equal(commands.sent, 2);
  });

  test('keeps one hash per key under the prefix, kept 24 hours and a minute after the last charge', async () => {
    const keyPrefix = freshPrefix();
    const limiter = new RedisSendLimiter(redis, { keyPrefix });
    assert.deepEqual(await send(limiter, sandbox, 2, T0), { ok: true });
    const key = `${keyPrefix}limits:acct`;
    assert.deepEqual((await space.keys()).filter((name) => name.startsWith(keyPrefix)), [key]);
    const ttl = await redis.pttl(key);
    assert.ok(ttl > 24 * 3600_000 && ttl <= 24 * 3600_000 + 60_000, `PTTL ${ttl}`);
    const fields = await redis.hgetall(key);
    assert.equal(fields.sum, '2');
    assert.equal(Object.keys(fields).filter((name) => /^\d+$/.test(name)).length, 1, 'one minute bucket');
  });

  test('on the server’s clock the time in the request does not matter: nodes with skewed clocks share one timeline', async () => {
    const limiter = new RedisSendLimiter(redis, { keyPrefix: freshPrefix() });
    assert.deepEqual(await send(limiter, sandbox, 1, T0), { ok: true });
    const refused = await send(limiter, sandbox, 1, T0 + 60_000);
    assert.equal(refused.ok, false, 'a clock a minute ahead gains nothing');
    assert.ok(!refused.ok && refused.reason === 'rate' && refused.retryAfterMs! > 900 && refused.retryAfterMs! <= 1000, JSON.stringify(refused));
    assert.equal(await limiter.sentLast24Hours('acct', 0), 1, 'nor does one set to 1970');
  });

  test('buckets that leave the window are deleted when the key is next charged', async () => {
    const keyPrefix = freshPrefix();
    const limiter = new RedisSendLimiter(redis, { keyPrefix, clock: 'caller' });
    const limits = { key: 'acct', maxSendRate: 0, max24HourSend: -1 };
    await send(limiter, limits, 1, T0);
    await send(limiter, limits, 2, T0 + 3600_000);
    await send(limiter, limits, 4, T0 + 24 * 3600_000);
    const fields = await redis.hgetall(`${keyPrefix}limits:acct`);
    assert.deepEqual(Object.keys(fields).filter((name) => /^\d+$/.test(name)).length, 2, 'the first bucket is gone');
    assert.equal(fields.sum, '6');
    assert.equal(await limiter.sentLast24Hours('acct', T0 + 25 * 3600_000), 4);
  });

  test('an unreachable Redis fails acquire with LimiterUnavailableError and charges nothing', async () => {
    const unreachable = new RedisSendLimiter(space.connect(await refusedPortUrl()), { keyPrefix: freshPrefix() });
    await assert.rejects(send(unreachable, sandbox, 1, T0), (error: Error) => {
      assert.ok(error instanceof LimiterUnavailableError);
      assert.match(error.message, /^send limits unavailable: /);
      return true;
    });
    await assert.rejects(unreachable.sentLast24Hours('acct'), LimiterUnavailableError);
  });

  test('a connection lost mid-way fails at once, and the limiter works again when it is back', async () => {
    const keyPrefix = freshPrefix();
    const connection = space.connect();
    const limiter = new RedisSendLimiter(connection, { keyPrefix, clock: 'caller' });
    assert.deepEqual(await send(limiter, sandbox, 1, T0), { ok: true });
    const ended = once(connection, 'end', { signal: AbortSignal.timeout(5000) });
    connection.disconnect();
    await assert.rejects(send(limiter, sandbox, 1, T0 + 1000), LimiterUnavailableError);
    await ended;
    await connection.connect();
    assert.equal(await limiter.sentLast24Hours('acct', T0 + 1000), 1, 'the refused call charged nothing');
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 1000), { ok: true });
  });

  test('within the grace after Redis last answered, the node keeps alone to its share of the rate; past it, LimiterUnavailableError', async () => {
    let clock = T0;
    const connection = space.connect();
    const fleet = new RedisSendLimiter(connection, { keyPrefix: freshPrefix(), clock: 'caller' });
    const limiter = new GraceSendLimiter(fleet, { graceMs: 5000, nodes: () => 2, now: () => clock });
    const limits = { key: 'acct', maxSendRate: 2, max24HourSend: 1 };
    assert.deepEqual(await send(limiter, limits, 1, clock), { ok: true }, 'the fleet\'s quota is used up');
    const ended = once(connection, 'end', { signal: AbortSignal.timeout(5000) });
    connection.disconnect();
    await ended;
    clock += 1000;
    assert.deepEqual(await send(limiter, limits, 1, clock), { ok: true }, 'alone, the quota is not counted');
    assert.deepEqual(await send(limiter, limits, 1, clock), { ok: false, reason: 'rate', retryAfterMs: 1000 }, 'one recipient a second: half the rate for one of two nodes');
    clock += 4001;
    await assert.rejects(send(limiter, limits, 1, clock), LimiterUnavailableError);
    await connection.connect();
    assert.deepEqual(await send(limiter, limits, 1, clock), { ok: false, reason: 'quota' }, 'Redis back: the fleet\'s count again');
  });

  test('the first call of a new connection waits for it instead of failing', async () => {
    const config = buildConfig({ cluster: { redisUrl: TEST_REDIS_URL, keyPrefix: freshPrefix() } }, { dataDir: '/nonexistent' });
    const limiter = openSendLimiter(config, createLogger({ level: 'silent' }));
    try {
      assert.ok(limiter instanceof GraceSendLimiter, 'cluster.redisUrl picks the Redis limiter (with its grace)');
      assert.equal(await limiter.sentLast24Hours('acct'), 0);
    } finally {
      await limiter.close();
    }
  });
});
