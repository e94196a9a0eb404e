import test from 'node:test';
import assert from 'node:assert/strict';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';

const ACCOUNT = '111122223333';

test('pages cover every entry once, newest first, also when many share one update time; filters by reason and date', async () => {
  const store = SqliteControlStore.open(tempDir());
  const at = new Date('2026-12-01T00:00:00Z');
  await store.suppression.put(
    Array.from({ length: 2500 }, (_, n) => ({ accountId: ACCOUNT, emailAddress: `u${n}@example.org`, reason: n < 2000 ? 'BOUNCE' : 'COMPLAINT', lastUpdateTime: n < 2400 ? at : new Date(at.getTime() + n), messageId: null, feedbackId: null }) as const),
  );
  await store.suppression.put([{ accountId: '999988887777', emailAddress: 'u1@example.org', reason: 'BOUNCE', messageId: null, feedbackId: null }]);
  const seen: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const page = await store.suppression.list(ACCOUNT, { pageSize: 1000, nextToken });
    seen.push(...page.entries.map((entry) => entry.emailAddress));
    nextToken = page.nextToken;
    pages++;
  } while (nextToken);
  assert.equal(pages, 3);
  assert.equal(new Set(seen).size, 2500);
  assert.equal(seen[0], 'u2499@example.org', 'newest first');
  assert.equal((await store.suppression.list(ACCOUNT, { reasons: ['COMPLAINT'], pageSize: 1000 })).entries.length, 500);
  const recent = await store.suppression.list(ACCOUNT, { startDate: at });
  assert.deepEqual(recent.entries.length, 100, 'after the start date only');
  assert.equal((await store.suppression.list(ACCOUNT, { endDate: new Date(at.getTime() + 2450), pageSize: 5000 })).entries.length, 2450, 'before the end date only');
  assert.deepEqual([...(await store.suppression.suppressed(ACCOUNT, ['U1@Example.org', 'nobody@example.org']))], ['U1@Example.org']);
  await store.close();
});
