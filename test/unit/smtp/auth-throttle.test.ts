import test from 'node:test';
import assert from 'node:assert/strict';
import { AuthThrottle, KnownAuthBlocks } from '../../../src/smtp/auth-throttle.js';

const config = { freeFailures: 1, delayStepMs: 100, maxDelayMs: 250, blockAfterFailures: 3, userBlockAfterFailures: 5, addressBlockAfterFailures: 6, windowSeconds: 60, blockSeconds: 120 };
const T0 = 1_000_000;

test('the delay grows per failure of one user name at one address, up to the ceiling', () => {
  const throttle = new AuthThrottle({ ...config, blockAfterFailures: 10 });
  assert.deepEqual(
    [0, 1, 2, 3].map((i) => throttle.recordFailure('AKIAX', '192.0.2.1', T0 + i).delayMs),
    [0, 100, 200, 250],
  );
  assert.equal(throttle.recordFailure('AKIAY', '192.0.2.1', T0 + 5).delayMs, 0, "another user's first failure at the same address is free");
});

test('failures older than the window are forgotten; a block lasts blockSeconds', () => {
  const throttle = new AuthThrottle(config);
  throttle.recordFailure('AKIAX', '192.0.2.1', T0);
  throttle.recordFailure('AKIAX', '192.0.2.1', T0 + 30_000);
  assert.deepEqual(throttle.recordFailure('AKIAX', '192.0.2.1', T0 + 61_000), { delayMs: 100, blocked: null }, 'the first failure left the window');
  assert.equal(throttle.recordFailure('AKIAX', '192.0.2.1', T0 + 61_001).blocked, 'user at address');
  assert.equal(throttle.blocked('AKIAX', '192.0.2.1', T0 + 61_001 + 119_999), 'user at address');
  assert.equal(throttle.blocked('AKIAX', '192.0.2.1', T0 + 61_001 + 120_000), null);
});

test("a success clears that user name's failures at that address, not the address's or the user name's totals", () => {
  const throttle = new AuthThrottle(config);
  for (let i = 0; i < 2; i++) throttle.recordFailure('AKIAX', '192.0.2.1', T0 + i);
  throttle.recordSuccess('AKIAX', '192.0.2.1');
  assert.equal(throttle.recordFailure('AKIAX', '192.0.2.1', T0 + 2).delayMs, 0, 'counting starts again at this address');
  for (let i = 0; i < 2; i++) throttle.recordFailure('AKIAX', '192.0.2.2', T0 + 3 + i);
  assert.equal(throttle.blocked('AKIAX', '192.0.2.3', T0 + 10), 'user', '5 failures of AKIAX in the window, the cleared ones included');
  for (let i = 0; i < 3; i++) throttle.recordFailure(`AKIAZ${i}`, '192.0.2.1', T0 + 20 + i);
  assert.equal(throttle.blocked('AKIAY', '192.0.2.1', T0 + 30), 'address', '6 failures from 192.0.2.1 over all user names');
  assert.equal(throttle.blocked('AKIAY', '192.0.2.9', T0 + 30), null);
});

test("the blocks in force, as a session worker learns them, refuse what the throttle refuses, until they end", () => {
  const throttle = new AuthThrottle(config);
  for (let i = 0; i < 3; i++) throttle.recordFailure('AKIAX', '192.0.2.1', T0 + i);
  for (let i = 0; i < 2; i++) throttle.recordFailure('AKIAX', '192.0.2.2', T0 + 10 + i);
  const pair = { scope: 'user at address', key: 'AKIAX\n192.0.2.1', until: T0 + 2 + 120_000 };
  const user = { scope: 'user', key: 'AKIAX', until: T0 + 11 + 120_000 };
  assert.deepEqual(throttle.blocksOf('AKIAX', '192.0.2.1', T0 + 20), [user, pair]);
  assert.deepEqual(throttle.blocksOf('AKIAY', '192.0.2.1', T0 + 20), [], "another user name at that address is not blocked (2 of the address's 6)");
  assert.deepEqual(throttle.allBlocks(T0 + 20), [user, pair]);

  const known = new KnownAuthBlocks();
  known.learn(throttle.allBlocks(T0 + 20), T0 + 20);
  for (const [userName, address] of [['AKIAX', '192.0.2.1'], ['AKIAX', '192.0.2.9'], ['AKIAY', '192.0.2.1']] as const) {
    for (const now of [T0 + 20, T0 + 2 + 120_000, T0 + 11 + 120_000]) assert.equal(known.blocked(userName, address, now), throttle.blocked(userName, address, now), `${userName} at ${address}, ${now - T0} ms`);
  }
  assert.equal(known.blocked('AKIAX', '192.0.2.9', T0 + 11 + 119_999), 'user');
  assert.equal(known.blocked('AKIAX', '192.0.2.9', T0 + 11 + 120_000), null, 'a block ends at its time');
});
