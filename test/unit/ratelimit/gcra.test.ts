import test from 'node:test';
import assert from 'node:assert/strict';
import { gcraDecide, gcraParameters } from '../../../src/ratelimit/index.js';

test('gcraParameters: the default burst is the rate rounded up, and at least 1', () => {
  assert.deepEqual(gcraParameters(10), { emissionMs: 100, burstToleranceMs: 900 });
  assert.deepEqual(gcraParameters(1), { emissionMs: 1000, burstToleranceMs: 0 });
  assert.deepEqual(gcraParameters(0.5), { emissionMs: 2000, burstToleranceMs: 0 });
  assert.deepEqual(gcraParameters(2.5), { emissionMs: 400, burstToleranceMs: 800 });
  assert.deepEqual(gcraParameters(10, 2), { emissionMs: 100, burstToleranceMs: 100 });
});

test('gcraDecide: a key with no TAT starts from now', () => {
  assert.deepEqual(gcraDecide(undefined, 5000, 100, 900, 1), { allowed: true, tat: 5100 });
  assert.deepEqual(gcraDecide(undefined, 5000, 100, 900, 10), { allowed: true, tat: 6000 });
});

test('gcraDecide: a TAT in the past counts as idle', () => {
  assert.deepEqual(gcraDecide(1000, 5000, 100, 900, 1), { allowed: true, tat: 5100 });
});

test('gcraDecide: denies with the time until the request fits', () => {
  assert.deepEqual(gcraDecide(6000, 5000, 100, 900, 1), { allowed: false, retryAfterMs: 100 });
  assert.deepEqual(gcraDecide(5500, 5000, 100, 900, 6), { allowed: false, retryAfterMs: 100 });
  assert.deepEqual(gcraDecide(5500, 5000, 100, 900, 5), { allowed: true, tat: 6000 });
});

test('gcraDecide: a cost above the whole burst waits for an idle limiter, then is charged in full', () => {
  assert.deepEqual(gcraDecide(5001, 5000, 1000, 0, 3), { allowed: false, retryAfterMs: 1 });
  assert.deepEqual(gcraDecide(5000, 5000, 1000, 0, 3), { allowed: true, tat: 8000 });
});

test('gcraDecide: decides at whole milliseconds, so a shortfall under half a millisecond is not a denial', () => {
  const emissionMs = 1000 / 14;
  let tat: number | undefined;
  for (let i = 0; i < 14; i++) {
    const decision = gcraDecide(tat, 0, emissionMs, emissionMs * 13, 1);
    assert.ok(decision.allowed);
    tat = decision.tat;
  }
  assert.equal(gcraDecide(tat, emissionMs - 0.4, emissionMs, emissionMs * 13, 1).allowed, true);
  assert.deepEqual(gcraDecide(tat, emissionMs - 0.6, emissionMs, emissionMs * 13, 1), { allowed: false, retryAfterMs: 1 });
});
