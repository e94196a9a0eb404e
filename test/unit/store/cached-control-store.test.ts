import test, { afterEach, beforeEach, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StoreUnavailableError } from '../../../src/common/store-unavailable.js';
import { CacheWithGrace, StoreContact } from '../../../src/store/cache-with-grace.js';
import { CACHE_FRESH_MS, cachedControlStore, type CachedControlStore } from '../../../src/store/cached-control-store.js';
import type { ControlStore } from '../../../src/store/control-store.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { capturingLogger } from '../../support/fault-watch.js';
import { tempDir } from '../../support/gateway-process.js';
import { verifiedIdentity } from '../../support/provision.js';
import { StoreOutage } from '../../support/store-outage.js';

const ACCOUNT = '111122223333';
const GRACE_MS = 30_000;

/** The cache over a real SQLite control store behind a switchable outage, on a clock the test moves. */
describe('the cached control store (cluster mode)', () => {
  let sqlite: SqliteControlStore;
  let outage: StoreOutage;
  let cached: CachedControlStore;
  let now: number;
  let records: Array<Record<string, unknown>>;

  const unavailable = (error: unknown) => error instanceof StoreUnavailableError;

  beforeEach(async () => {
    sqlite = SqliteControlStore.open(tempDir('relaygate-cache-'));
    await sqlite.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 1000 });
    await sqlite.identities.create(verifiedIdentity(ACCOUNT, 'example.com'));
    outage = new StoreOutage();
    now = 1_000_000;
    const logger = capturingLogger();
    records = logger.records;
    cached = cachedControlStore(outage.controlStore(sqlite), { graceMs: GRACE_MS, now: () => now, log: logger.log });
  });
  afterEach(() => sqlite.close());

  test('a read is reused for CACHE_FRESH_MS, then read again', async () => {
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 10);
    await sqlite.accounts.update(ACCOUNT, { maxSendRate: 20 });
    now += CACHE_FRESH_MS - 1;
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 10);
    assert.equal(outage.count('accounts.get'), 1);
    now += 1;
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 20);
    assert.equal(outage.count('accounts.get'), 2);
  });

  test('each argument list is its own entry, and an absent value is cached like any other', async () => {
    assert.equal(await cached.accounts.get('999999999999'), null);
    assert.equal((await cached.accounts.get(ACCOUNT))?.id, ACCOUNT);
    assert.equal(await cached.accounts.get('999999999999'), null);
    assert.equal(outage.count('accounts.get'), 2);
  });

  test('while the store is unreachable, the last values stand in until the grace after it last answered has passed', async () => {
    const names = ['sender@example.com', 'example.com'];
    assert.deepEqual((await cached.identities.findByNames(ACCOUNT, names)).map((identity) => identity.name), ['example.com']);
    assert.ok(await cached.accounts.get(ACCOUNT));
    const lastReached = now;
    outage.down = true;
    now = lastReached + GRACE_MS;
    assert.deepEqual((await cached.identities.findByNames(ACCOUNT, names)).map((identity) => identity.name), ['example.com']);
    assert.equal((await cached.accounts.get(ACCOUNT))?.id, ACCOUNT);
    now = lastReached + GRACE_MS + 1;
    await assert.rejects(cached.identities.findByNames(ACCOUNT, names), unavailable);
    await assert.rejects(cached.accounts.get(ACCOUNT), unavailable);
  });

  test('something never read fails at once while the store is unreachable', async () => {
    assert.ok(await cached.accounts.get(ACCOUNT));
    outage.down = true;
    now += CACHE_FRESH_MS;
    await assert.rejects(cached.credentials.get('AKIANEVERSEEN0000001'), unavailable);
    await assert.rejects(cached.accounts.get('999999999999'), unavailable);
  });

  test('the grace counts from the last answer of the store to any call, not from when the value was read', async () => {
    assert.ok(await cached.accounts.get(ACCOUNT));
    now += GRACE_MS * 10;
    // A listing (never cached) reaches the store: it answered just now.
    assert.equal((await cached.accounts.list()).length, 1);
    outage.down = true;
    now += GRACE_MS;
    assert.equal((await cached.accounts.get(ACCOUNT))?.id, ACCOUNT);
  });

  test('a grace of 0 never lets an old value stand in', async () => {
    const strict = cachedControlStore(outage.controlStore(sqlite), { graceMs: 0, now: () => now });
    assert.ok(await strict.accounts.get(ACCOUNT));
    outage.down = true;
    now += CACHE_FRESH_MS;
    await assert.rejects(strict.accounts.get(ACCOUNT), unavailable);
  });

  test('a view with another grace shares the cache: delivery keeps the last values however long the outage', async () => {
    const delivery = cached.withGrace(Number.POSITIVE_INFINITY);
    assert.equal((await cached.identities.findByNames(ACCOUNT, ['example.com']))[0]?.name, 'example.com');
    outage.down = true;
    now += 24 * 3600_000;
    await assert.rejects(cached.identities.findByNames(ACCOUNT, ['example.com']), unavailable);
    assert.equal((await delivery.identities.findByNames(ACCOUNT, ['example.com']))[0]?.name, 'example.com');
    // Something neither view ever read has nothing to stand in.
    await assert.rejects(delivery.identities.findByNames(ACCOUNT, ['other.example']), unavailable);
  });

  test('during an outage the store is tried again at most once a second; once it answers, reads are fresh again', async () => {
    assert.ok(await cached.accounts.get(ACCOUNT));
    outage.down = true;
    now += CACHE_FRESH_MS;
    for (let i = 0; i < 5; i++) assert.ok(await cached.accounts.get(ACCOUNT));
    await assert.rejects(cached.accounts.list(), unavailable);
    assert.equal(outage.calls.length, 2, 'one failed try, then none for a second');
    now += 1000;
    await sqlite.accounts.update(ACCOUNT, { maxSendRate: 30 });
    outage.down = false;
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 30);
    assert.deepEqual(
      records.map((record) => [record.level, record.msg]),
      [
        [40, 'control store unreachable: answering from cached values while the grace lasts, then with temporary failures'],
        [30, 'control store reachable again'],
      ],
    );
    assert.equal(records[1]!.unreachableMs, 1000);
  });

  test('writes pass through; while the store is unreachable they fail with StoreUnavailableError', async () => {
    await cached.configurationSets.create({ accountId: ACCOUNT, name: 'Set', sendingEnabled: true, tlsPolicy: 'Optional', sendingPoolName: null, suppressedReasons: null, eventDestinations: [] });
    assert.equal((await sqlite.configurationSets.get(ACCOUNT, 'Set'))?.name, 'Set');
    outage.down = true;
    await assert.rejects(cached.configurationSets.update(ACCOUNT, 'Set', { sendingEnabled: false }), unavailable);
    await assert.rejects(cached.suppression.put([{ accountId: ACCOUNT, emailAddress: 'a@example.net', reason: 'BOUNCE', messageId: null, feedbackId: null }]), unavailable);
    assert.equal((await sqlite.configurationSets.get(ACCOUNT, 'Set'))?.sendingEnabled, true);
  });

  test('a write through the cache is seen by the next read at once, and the old value still stands in if the store then fails', async () => {
    assert.equal((await cached.accounts.get(ACCOUNT))?.sendingEnabled, true);
    await cached.accounts.update(ACCOUNT, { sendingEnabled: false });
    assert.equal((await cached.accounts.get(ACCOUNT))?.sendingEnabled, false);
    assert.deepEqual([...(await cached.suppression.suppressed(ACCOUNT, ['a@example.net']))], []);
    await cached.suppression.put([{ accountId: ACCOUNT, emailAddress: 'a@example.net', reason: 'BOUNCE', messageId: null, feedbackId: null }]);
    assert.deepEqual([...(await cached.suppression.suppressed(ACCOUNT, ['a@example.net']))], ['a@example.net']);
    await cached.suppression.delete(ACCOUNT, ['a@example.net']);
    outage.down = true;
    // Due for a re-read after the delete, but the store is away: the last value read stands in.
    assert.deepEqual([...(await cached.suppression.suppressed(ACCOUNT, ['a@example.net']))], ['a@example.net']);
  });

  test('other errors pass unchanged and nothing stands in for them', async () => {
    const failing = cachedControlStore(
      {
        ...sqlite,
        accounts: { ...sqlite.accounts, get: async () => Promise.reject(new TypeError('a bug')) } as ControlStore['accounts'],
      } as ControlStore,
      { graceMs: GRACE_MS, now: () => now },
    );
    await assert.rejects(failing.accounts.get(ACCOUNT), (error: unknown) => error instanceof TypeError && error.message === 'a bug');
  });

  test('concurrent reads of one key share one lookup', async () => {
    const [first, second] = await Promise.all([cached.policies.list({ kind: 'user', accountId: ACCOUNT, userName: 'u' }), cached.policies.list({ kind: 'user', accountId: ACCOUNT, userName: 'u' })]);
    assert.deepEqual(first, []);
    assert.equal(first, second);
    assert.equal(outage.count('policies.list'), 1);
  });

  test('the reads the send path makes are cached; listings and management reads are not', async () => {
    const reads: Array<[string, () => Promise<unknown>]> = [
      ['accounts.get', () => cached.accounts.get(ACCOUNT)],
      ['credentials.get', () => cached.credentials.get('AKIATESTTESTTEST0001')],
      ['identities.get', () => cached.identities.get(ACCOUNT, 'example.com')],
      ['identities.findByNames', () => cached.identities.findByNames(ACCOUNT, ['example.com'])],
      ['configurationSets.get', () => cached.configurationSets.get(ACCOUNT, 'Set')],
      ['policies.list', () => cached.policies.list({ kind: 'identity', accountId: ACCOUNT, identity: 'example.com' })],
      ['suppression.suppressed', () => cached.suppression.suppressed(ACCOUNT, ['a@example.net'])],
      ['suppression.reasons', () => cached.suppression.reasons(ACCOUNT)],
      ['accounts.list', () => cached.accounts.list()],
      ['identities.list', () => cached.identities.list(ACCOUNT)],
      ['policies.get', () => cached.policies.get({ kind: 'identity', accountId: ACCOUNT, identity: 'example.com' }, 'p')],
      ['suppression.get', () => cached.suppression.get(ACCOUNT, 'a@example.net')],
      ['suppression.list', () => cached.suppression.list(ACCOUNT)],
    ];
    for (const [, read] of reads) await read();
    for (const [, read] of reads) await read();
    assert.deepEqual(
      reads.map(([name]) => [name, outage.count(name)]),
      reads.map(([name], index) => [name, index < 8 ? 1 : 2]),
    );
  });
});

describe('CacheWithGrace', () => {
  test('beyond its size, the entry read longest ago goes first', async () => {
    let now = 0;
    let lookups = 0;
    const cache = new CacheWithGrace<string>(new StoreContact('test', () => now), 10_000, 2);
    const get = (key: string) =>
      cache.get(
        key,
        async () => {
          lookups++;
          return key;
        },
        0,
      );
    await get('a');
    await get('b');
    await get('c');
    assert.equal(lookups, 3);
    await get('c');
    await get('b');
    assert.equal(lookups, 3);
    await get('a');
    assert.equal(lookups, 4);
  });

  test('a read that began before a write is not taken as fresh, nor shared with reads after it', async () => {
    let now = 0;
    let value = 'old';
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const cache = new CacheWithGrace<string>(new StoreContact('test', () => now), 10_000);
    const slow = cache.get(
      'k',
      async () => {
        const seen = value;
        await gate;
        return seen;
      },
      0,
    );
    value = 'new';
    cache.expireAll();
    now = 1;
    const after = cache.get('k', async () => value, 0);
    release();
    assert.equal(await slow, 'old');
    assert.equal(await after, 'new');
    assert.equal(await cache.get('k', async () => 'not asked', 0), 'new');
  });
});

/** The same cache as the gateway keeps over control.db (app/node-control-store.ts): no time limit, data_version instead. */
describe('the cached control store over control.db (embedded mode)', () => {
  let dataDir: string;
  let gateway: SqliteControlStore;
  let otherProcess: SqliteControlStore;
  let cached: ControlStore;

  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));

  beforeEach(async () => {
    dataDir = tempDir('relaygate-cache-');
    gateway = SqliteControlStore.open(dataDir);
    otherProcess = SqliteControlStore.open(dataDir);
    await gateway.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 1000 });
    cached = cachedControlStore(gateway, { graceMs: 0, freshMs: Number.POSITIVE_INFINITY, changedElsewhere: () => gateway.changedElsewhere() });
  });
  afterEach(async () => {
    await gateway.close();
    await otherProcess.close();
  });

  test('a read is reused until another connection commits, however long ago it was read', async () => {
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 10);
    // A change on the cache's own connection that did not go through it: data_version does not move, the value is reused.
    await gateway.accounts.update(ACCOUNT, { maxSendRate: 20 });
    await settle();
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 10);
    // A CLI command (another connection) commits: the next read after it sees the change.
    await otherProcess.accounts.update(ACCOUNT, { sendingEnabled: false });
    await settle();
    const account = await cached.accounts.get(ACCOUNT);
    assert.deepEqual([account?.maxSendRate, account?.sendingEnabled], [20, false]);
  });

  test('a write through the cache makes every sub-store read again, not only its own', async () => {
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 10);
    await gateway.accounts.update(ACCOUNT, { maxSendRate: 30 });
    await cached.identities.create(verifiedIdentity(ACCOUNT, 'example.com'));
    assert.equal((await cached.accounts.get(ACCOUNT))?.maxSendRate, 30);
    assert.equal((await cached.identities.findByNames(ACCOUNT, ['example.com'])).length, 1);
  });
});
