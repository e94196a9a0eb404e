import test from 'node:test';
import assert from 'node:assert/strict';
import { ExpiringMemo } from '../../../src/delivery/expiring-memo.js';

test('concurrent callers share one lookup; the answer is kept for its lifetime, a failure for its own', async () => {
  let clock = 0;
  let lookups = 0;
  const memo = new ExpiringMemo<string>((settled) => (settled.ok ? 60_000 : 1000), () => clock);
  const lookup = async () => `answer ${++lookups}`;
  assert.deepEqual(await Promise.all([memo.get('a', lookup), memo.get('a', lookup)]), ['answer 1', 'answer 1']);
  clock = 59_999;
  assert.equal(await memo.get('a', lookup), 'answer 1');
  clock = 60_000;
  assert.equal(await memo.get('a', lookup), 'answer 2');

  const failing = async () => {
    lookups++;
    throw new Error('SERVFAIL');
  };
  await assert.rejects(memo.get('b', failing), /SERVFAIL/);
  await assert.rejects(memo.get('b', lookup), /SERVFAIL/, 'the failure is remembered');
  clock += 1000;
  assert.equal(lookups, 3);
  assert.equal(await memo.get('b', lookup), 'answer 4');
});
