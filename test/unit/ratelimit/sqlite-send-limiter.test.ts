import test, { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteSendLimiter } from '../../../src/ratelimit/index.js';
import { T0, send, sendLimiterBehaviour } from './send-limiter-behaviour.js';

const directory = mkdtempSync(join(tmpdir(), 'relaygate-ratelimit-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let files = 0;
const freshFile = (): string => join(directory, `limits-${++files}.db`);

const sandbox = { key: 'acct', maxSendRate: 1, max24HourSend: 200 };

describe('SqliteSendLimiter', () => {
  sendLimiterBehaviour(() => new SqliteSendLimiter(freshFile()));

  test('keeps rate and quota charges across reopening the same file', async () => {
    const file = freshFile();
    const first = new SqliteSendLimiter(file);
    assert.deepEqual(await send(first, sandbox, 1, T0), { ok: true });
    await first.close();

    const reopened = new SqliteSendLimiter(file);
    try {
      assert.equal(await reopened.sentLast24Hours('acct', T0 + 500), 1);
      assert.deepEqual(await send(reopened, sandbox, 1, T0 + 500), { ok: false, reason: 'rate', retryAfterMs: 500 });
    } finally {
      await reopened.close();
    }
  });

  test('two instances on one file see each other\'s charges', async () => {
    const file = freshFile();
    const one = new SqliteSendLimiter(file);
    const two = new SqliteSendLimiter(file);
    try {
      assert.deepEqual(await send(one, sandbox, 1, T0), { ok: true });
      assert.deepEqual(await send(two, sandbox, 1, T0), { ok: false, reason: 'rate', retryAfterMs: 1000 });
      assert.equal(await two.sentLast24Hours('acct', T0), 1);

      const quotaOfTwo = { key: 'quota', maxSendRate: 0, max24HourSend: 2 };
      assert.deepEqual(await send(one, quotaOfTwo, 1, T0), { ok: true });
      assert.deepEqual(await send(two, quotaOfTwo, 1, T0), { ok: true });
      assert.deepEqual(await send(one, quotaOfTwo, 1, T0), { ok: false, reason: 'quota' });
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('uses an open Database it is given, creates its tables there and leaves it open', async () => {
    const db = new Database(':memory:');
    try {
      const limiter = new SqliteSendLimiter(db);
      await send(limiter, sandbox, 2, T0);
      await limiter.close();
      assert.equal(db.open, true);
      assert.equal(db.prepare('SELECT SUM(recipients) FROM send_quota_minutes').pluck().get(), 2);
      assert.equal(typeof db.prepare('SELECT tat FROM send_rate_tat').pluck().get(), 'number');
    } finally {
      db.close();
    }
  });

  test('checks asked for together are decided in the order asked, each charging what it passed', async () => {
    const limiter = new SqliteSendLimiter(freshFile());
    try {
      const rateOfOne = { key: 'rate', maxSendRate: 1, max24HourSend: -1 };
      assert.deepEqual(await Promise.all([send(limiter, rateOfOne, 1, T0), send(limiter, rateOfOne, 1, T0), send(limiter, rateOfOne, 1, T0 + 1000)]), [
        { ok: true },
        { ok: false, reason: 'rate', retryAfterMs: 1000 },
        { ok: true },
      ]);
      const quotaOfThree = { key: 'quota', maxSendRate: 0, max24HourSend: 3 };
      assert.deepEqual(await Promise.all([send(limiter, quotaOfThree, 2, T0), send(limiter, quotaOfThree, 2, T0), send(limiter, quotaOfThree, 1, T0)]), [
        { ok: true },
        { ok: false, reason: 'quota' },
        { ok: true },
      ]);
      assert.equal(await limiter.sentLast24Hours('quota', T0), 3);
    } finally {
      await limiter.close();
    }
  });

  test('checks asked for together all fail, none hangs, when the database cannot be written', async () => {
    const db = new Database(':memory:');
    const limiter = new SqliteSendLimiter(db);
    db.close();
    const results = await Promise.allSettled([send(limiter, sandbox, 1, T0), send(limiter, sandbox, 1, T0)]);
    assert.deepEqual(results.map((result) => result.status), ['rejected', 'rejected']);
  });

  test('prunes minute buckets that have left the 24-hour window', async () => {
    const db = new Database(':memory:');
    try {
      const limiter = new SqliteSendLimiter(db);
      await send(limiter, { ...sandbox, key: 'idle' }, 1, T0);
      await send(limiter, { ...sandbox, key: 'busy' }, 1, T0 + 24 * 60 * 60 * 1000);
      const keys = db.prepare('SELECT key FROM send_quota_minutes').pluck().all();
      assert.deepEqual(keys, ['busy']);
    } finally {
      db.close();
    }
  });
});
