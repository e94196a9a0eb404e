import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { RedisSendLimiter, type AcquireRequest, type SendLimiter } from '../../../src/ratelimit/index.js';
import { T0, send } from '../../unit/ratelimit/send-limiter-behaviour.js';
import { testKeySpace } from '../../support/test-redis.js';

// Three limiters on three connections stand for three gateway nodes sharing one account.
const NODES = 3;
/** Acquires each node keeps in flight at once, as its SMTP sessions would. */
const SESSIONS_PER_NODE = 4;

const space = testKeySpace('send-limiter-contention');
after(() => space.cleanUp());

function nodes(clock: 'redis' | 'caller'): SendLimiter[] {
  return Array.from({ length: NODES }, () => new RedisSendLimiter(space.connect(), { keyPrefix: space.prefix, clock }));
}

/** Every session of every node acquires one recipient after another while `more()` holds; returns those allowed. */
async function hammer(limiters: SendLimiter[], request: Omit<AcquireRequest, 'rateRecipients' | 'quotaRecipients'>, more: (attempt: number) => boolean): Promise<number> {
  let attempts = 0;
  let allowed = 0;
  const session = async (limiter: SendLimiter) => {
    while (more(attempts++)) if ((await limiter.acquire({ ...request, rateRecipients: 1, quotaRecipients: 1 })).ok) allowed++;
  };
  await Promise.all(limiters.flatMap((limiter) => Array.from({ length: SESSIONS_PER_NODE }, () => session(limiter))));
  return allowed;
}

async function serverTime(): Promise<number> {
  const [seconds, micros] = await space.admin.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

test('at one instant three nodes together pass exactly one burst of the rate and exactly the quota', async () => {
  const limiters = nodes('caller');
  assert.equal(await hammer(limiters, { key: 'rate-instant', maxSendRate: 10, max24HourSend: -1, now: T0 }, (attempt) => attempt < 300), 10);
  assert.equal(await hammer(limiters, { key: 'quota-instant', maxSendRate: 0, max24HourSend: 150, now: T0 }, (attempt) => attempt < 300), 150);
  assert.equal(await limiters[0]!.sentLast24Hours('quota-instant', T0), 150);
  assert.deepEqual(await send(limiters[2]!, { key: 'quota-instant', maxSendRate: 0, max24HourSend: 150 }, 1, T0), { ok: false, reason: 'quota' });
});

test('over a second of load on the server’s clock, three nodes never pass more than one burst beyond the rate', async () => {
  const limiters = nodes('redis');
  const rate = { key: 'rate-load', maxSendRate: 200, max24HourSend: -1 };
  const started = await serverTime();
  const until = Date.now() + 1000;
  const allowed = await hammer(limiters, rate, () => Date.now() < until);
  const elapsedMs = (await serverTime()) - started;
  const ceiling = rate.maxSendRate + Math.ceil((rate.maxSendRate * elapsedMs) / 1000);
  assert.ok(allowed >= rate.maxSendRate, `at least the first burst passed (${allowed})`);
  assert.ok(allowed <= ceiling, `${allowed} allowed in ${elapsedMs} ms: at most one burst (${rate.maxSendRate}) plus the rate, ${ceiling}`);

  const quota = { key: 'quota-load', maxSendRate: 0, max24HourSend: 500 };
  assert.equal(await hammer(limiters, quota, (attempt) => attempt < 1500), 500, 'exactly the quota, however the nodes interleave');
  assert.equal(await limiters[1]!.sentLast24Hours('quota-load'), 500);
});
