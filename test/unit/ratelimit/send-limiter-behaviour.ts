import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import type { AcquireRequest, AcquireResult, SendLimiter } from '../../../src/ratelimit/index.js';

type Limits = Pick<AcquireRequest, 'key' | 'maxSendRate' | 'max24HourSend' | 'burst'>;

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
/** Half a minute past a minute boundary, so minute-bucket edges are visible in the tests. */
export const T0 = Date.UTC(2026, 0, 15, 12, 0, 30);

const RATE_DENIED = (retryAfterMs: number): AcquireResult => ({ ok: false, reason: 'rate', retryAfterMs });
const QUOTA_DENIED: AcquireResult = { ok: false, reason: 'quota' };
const OK: AcquireResult = { ok: true };

/** A message whose recipients all count toward both the rate and the quota. */
export function send(limiter: SendLimiter, limits: Limits, recipients: number, now: number): Promise<AcquireResult> {
  return limiter.acquire({ ...limits, rateRecipients: recipients, quotaRecipients: recipients, now });
}

/** Registers the behaviour every SendLimiter must show; `open` returns a fresh, empty limiter. */
export function sendLimiterBehaviour(open: () => SendLimiter): void {
  const opened: SendLimiter[] = [];
  const fresh = (): SendLimiter => {
    const limiter = open();
    opened.push(limiter);
    return limiter;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((limiter) => limiter.close()));
  });

  test('allows a burst of maxSendRate recipients, then denies for one emission interval', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 10, max24HourSend: -1 };
    for (let i = 0; i < 10; i++) assert.deepEqual(await send(limiter, limits, 1, T0), OK);
    assert.deepEqual(await send(limiter, limits, 1, T0), RATE_DENIED(100));
  });

  test('allows the next recipient once the emission interval has passed', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 10, max24HourSend: -1 };
    for (let i = 0; i < 10; i++) await send(limiter, limits, 1, T0);
    assert.deepEqual(await send(limiter, limits, 1, T0 + 99), RATE_DENIED(1));
    assert.deepEqual(await send(limiter, limits, 1, T0 + 100), OK);
    assert.deepEqual(await send(limiter, limits, 1, T0 + 100), RATE_DENIED(100));
  });

  test('14 per second allows 14 at once, then one about every 71 ms', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 14, max24HourSend: -1 };
    for (let i = 0; i < 14; i++) assert.deepEqual(await send(limiter, limits, 1, T0), OK);
    assert.deepEqual(await send(limiter, limits, 1, T0), RATE_DENIED(71));
    assert.deepEqual(await send(limiter, limits, 1, T0 + 71), OK);
    assert.deepEqual(await send(limiter, limits, 1, T0 + 71), RATE_DENIED(72));
  });

  test('the sandbox rate allows one recipient per second', async () => {
    const limiter = fresh();
    const sandbox = { key: 'acct', maxSendRate: 1, max24HourSend: 200 };
    assert.deepEqual(await send(limiter, sandbox, 1, T0), OK);
    assert.deepEqual(await send(limiter, sandbox, 1, T0), RATE_DENIED(1000));
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 999), RATE_DENIED(1));
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 1000), OK);
  });

  test('a configured burst overrides the default', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 1, max24HourSend: -1, burst: 3 };
    assert.deepEqual(await send(limiter, limits, 3, T0), OK);
    assert.deepEqual(await send(limiter, limits, 1, T0), RATE_DENIED(1000));
  });

  test('a message larger than the burst passes when idle and holds back what follows', async () => {
    const limiter = fresh();
    const sandbox = { key: 'acct', maxSendRate: 1, max24HourSend: 200 };
    assert.deepEqual(await send(limiter, sandbox, 3, T0), OK);
    assert.deepEqual(await send(limiter, sandbox, 3, T0), RATE_DENIED(3000));
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 2999), RATE_DENIED(1));
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 3000), OK);
  });

  test('the quota counts recipients, not messages', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 0, max24HourSend: 5 };
    assert.deepEqual(await send(limiter, limits, 3, T0), OK);
    assert.equal(await limiter.sentLast24Hours('acct', T0), 3);
    assert.deepEqual(await send(limiter, limits, 3, T0), QUOTA_DENIED);
    assert.deepEqual(await send(limiter, limits, 2, T0), OK);
    assert.equal(await limiter.sentLast24Hours('acct', T0), 5);
  });

  test('the quota allows reaching the maximum exactly but not passing it', async () => {
    const limiter = fresh();
    const reaches = { key: 'reaches', maxSendRate: 0, max24HourSend: 200 };
    const passes = { key: 'passes', maxSendRate: 0, max24HourSend: 200 };
    await send(limiter, reaches, 190, T0);
    assert.deepEqual(await send(limiter, reaches, 10, T0), OK);
    assert.equal(await limiter.sentLast24Hours('reaches', T0), 200);
    await send(limiter, passes, 191, T0);
    assert.deepEqual(await send(limiter, passes, 10, T0), QUOTA_DENIED);
    assert.equal(await limiter.sentLast24Hours('passes', T0), 191);
  });

  test('the quota is checked before the rate', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 1, max24HourSend: 1 };
    await send(limiter, limits, 1, T0);
    assert.deepEqual(await send(limiter, limits, 1, T0), QUOTA_DENIED);
  });

  test('a quota denial charges neither limit', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 2, max24HourSend: 3 };
    assert.deepEqual(await send(limiter, limits, 1, T0), OK);
    assert.deepEqual(await send(limiter, limits, 3, T0), QUOTA_DENIED);
    assert.equal(await limiter.sentLast24Hours('acct', T0), 1);
    assert.deepEqual(await send(limiter, limits, 1, T0), OK, 'the burst still has room for a second recipient');
    assert.deepEqual(await send(limiter, limits, 1, T0), RATE_DENIED(500));
  });

  test('a rate denial charges neither limit', async () => {
    const limiter = fresh();
    const sandbox = { key: 'acct', maxSendRate: 1, max24HourSend: 200 };
    await send(limiter, sandbox, 1, T0);
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 400), RATE_DENIED(600));
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 400), RATE_DENIED(600), 'the TAT did not move');
    assert.equal(await limiter.sentLast24Hours('acct', T0 + 400), 1);
    assert.deepEqual(await send(limiter, sandbox, 1, T0 + 1000), OK);
    assert.equal(await limiter.sentLast24Hours('acct', T0 + 1000), 2);
  });

  test('mailbox-simulator recipients use the rate but not the quota', async () => {
    const limiter = fresh();
    const sandbox = { key: 'acct', maxSendRate: 1, max24HourSend: 1 };
    const toSimulator = { ...sandbox, rateRecipients: 1, quotaRecipients: 0 };
    assert.deepEqual(await send(limiter, sandbox, 1, T0), OK);
    assert.deepEqual(await limiter.acquire({ ...toSimulator, now: T0 + 1000 }), OK);
    assert.equal(await limiter.sentLast24Hours('acct', T0 + 1000), 1);
    assert.deepEqual(await limiter.acquire({ ...toSimulator, now: T0 + 1000 }), RATE_DENIED(1000));
  });

  test('-1 quota and 0 rate are unlimited, and recipients are still counted', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 0, max24HourSend: -1 };
    assert.deepEqual(await send(limiter, limits, 10_000, T0), OK);
    assert.deepEqual(await send(limiter, limits, 10_000, T0), OK);
    assert.equal(await limiter.sentLast24Hours('acct', T0), 20_000);
  });

  test('keys do not share limits', async () => {
    const limiter = fresh();
    const sandbox = { maxSendRate: 1, max24HourSend: 1 };
    assert.deepEqual(await send(limiter, { ...sandbox, key: 'one' }, 1, T0), OK);
    assert.deepEqual(await send(limiter, { ...sandbox, key: 'two' }, 1, T0), OK);
    assert.equal(await limiter.sentLast24Hours('one', T0), 1);
    assert.equal(await limiter.sentLast24Hours('never-sent', T0), 0);
  });

  test('charges leave the rolling quota once they are 24 hours old', async () => {
    const limiter = fresh();
    const limits = { key: 'acct', maxSendRate: 0, max24HourSend: 7 };
    await send(limiter, limits, 5, T0);
    await send(limiter, limits, 2, T0 + 12 * HOUR);
    assert.deepEqual(await send(limiter, limits, 1, T0 + 24 * HOUR - MINUTE), QUOTA_DENIED);
    assert.equal(await limiter.sentLast24Hours('acct', T0 + 24 * HOUR - MINUTE), 7);
    assert.equal(await limiter.sentLast24Hours('acct', T0 + 24 * HOUR), 2);
    assert.deepEqual(await send(limiter, limits, 5, T0 + 24 * HOUR), OK);
  });

  test('with one-minute buckets a charge stops counting within the minute before it is 24 hours old', async () => {
    const limiter = fresh();
    const minuteStart = T0 - (T0 % MINUTE);
    await send(limiter, { key: 'acct', maxSendRate: 0, max24HourSend: -1 }, 1, minuteStart + MINUTE - 1);
    assert.equal(await limiter.sentLast24Hours('acct', minuteStart + 24 * HOUR - 1), 1);
    assert.equal(await limiter.sentLast24Hours('acct', minuteStart + 24 * HOUR), 0);
  });

  test('rejects counts and limits that would silently disable a check', async () => {
    const limiter = fresh();
    const valid: AcquireRequest = { key: 'acct', rateRecipients: 1, quotaRecipients: 1, maxSendRate: 1, max24HourSend: 200, now: T0 };
    const invalid: Partial<AcquireRequest>[] = [
      { rateRecipients: -1 },
      { quotaRecipients: 1.5 },
      { maxSendRate: Number.NaN },
      { max24HourSend: -2 },
      { burst: 0 },
    ];
    for (const change of invalid) {
      await assert.rejects(limiter.acquire({ ...valid, ...change }), RangeError, JSON.stringify(change));
    }
    assert.deepEqual(await limiter.acquire(valid), OK, 'nothing was charged by the invalid requests');
  });
}
