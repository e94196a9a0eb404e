import test from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, nextRetry, retryHintMs, type RetryPolicy } from '../../../src/delivery/retry-schedule.js';

const policy: RetryPolicy = { firstDelayMs: 60_000, maxDelayMs: 3_600_000, lifetimeMs: 5 * 86_400_000 };
const noJitter = () => 0.5;

test('backoff doubles from the first delay and stops at the ceiling: 1, 2, 4 … 32, 60, 60 minutes', () => {
  assert.deepEqual(
    Array.from({ length: 9 }, (_, index) => backoffMs(index + 1, policy, noJitter) / 60_000),
    [1, 2, 4, 8, 16, 32, 60, 60, 60],
  );
  assert.equal(backoffMs(1000, policy, noJitter), 3_600_000, 'no overflow after many failures');
});

test('jitter spreads each delay over plus or minus 20 %', () => {
  assert.equal(backoffMs(2, policy, () => 0), 96_000);
  assert.equal(backoffMs(2, policy, () => 1), 144_000);
});

test('retry hints in replies, in seconds, minutes or hours', () => {
  assert.equal(retryHintMs('451 4.7.1 Greylisted, please try again in 2 seconds'), 2000);
  assert.equal(retryHintMs('421 4.7.0 Try again after 5 min'), 300_000);
  assert.equal(retryHintMs('450 Please retry in 1 hour'), 3_600_000);
  assert.equal(retryHintMs('451 try again in 0s'), 1000, 'at least a second');
  assert.equal(retryHintMs('451 4.3.0 Try again later'), null);
  assert.equal(retryHintMs('452 4.2.2 Mailbox full'), null);
});

test('nextRetry: the hint wins over the backoff; the last attempt falls on the end of the queue lifetime; then no more', () => {
  const received = 1_000_000;
  assert.deepEqual(nextRetry(1, '451 try again in 30 seconds', received + 5000, received, policy, noJitter), { retry: true, nextAttemptAt: received + 35_000 });
  assert.deepEqual(nextRetry(3, '451 busy', received + 5000, received, policy, noJitter), { retry: true, nextAttemptAt: received + 5000 + 240_000 });
  const nearEnd = received + policy.lifetimeMs - 10_000;
  assert.deepEqual(nextRetry(40, '451 busy', nearEnd, received, policy, noJitter), { retry: true, nextAttemptAt: received + policy.lifetimeMs });
  assert.deepEqual(nextRetry(41, '451 busy', received + policy.lifetimeMs, received, policy, noJitter), { retry: false });
});
