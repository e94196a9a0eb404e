import test, { afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { AlreadyExistsError, NotFoundError, type ControlStore, type NewAccount } from '../../../src/store/control-store.js';
import type { NewConfigurationSet } from '../../../src/store/configuration-sets.js';
import type { NewIdentity } from '../../../src/store/identities.js';
import { InvalidNextTokenError } from '../../../src/store/suppression-page-token.js';
import { generateDkimKey } from '../../../src/message/dkim/index.js';

const ACCOUNT = '111122223333';
const DKIM_KEY = generateDkimKey('ed25519');
const OTHER = '444455556666';

const account = (id: string, changes: Partial<NewAccount> = {}): NewAccount => ({ id, sandbox: true, sendingEnabled: true, maxSendRate: 1, max24HourSend: 200, ...changes });

const credential = (accessKeyId: string, accountId = ACCOUNT) => ({
  accessKeyId,
  accountId,
  userName: 'ses-smtp-user',
  region: 'eu-west-1',
  password: { salt: 'c2FsdA', hash: 'aGFzaA' },
});

/** An identity with every field set: DKIM keys, MAIL FROM, notifications, a default set, verification times. */
const fullIdentity = (name: string, accountId = ACCOUNT): NewIdentity => ({
  accountId,
  name,
  type: 'Domain',
  status: 'Pending',
  verifiedBy: null,
  verificationToken: 'pmBGN/7MjnfhTKUZ06Enqq1PeGUaOkw8lGhcfwefcHU=',
  pendingSince: new Date('2026-11-30T10:00:00.123Z'),
  lastCheckedAt: new Date('2026-11-30T10:05:00Z'),
  dkim: {
    enabled: true,
    origin: 'RELAYGATE',
    keys: [{ selector: 'rg1', ...DKIM_KEY }],
  },
  mailFrom: { domain: `bounce.${name}`, behaviorOnMxFailure: 'RejectMessage', status: 'TemporaryFailure', pendingSince: 1_764_497_000_000 },
  defaultConfigurationSet: 'ConfigSet',
  feedbackForwarding: false,
  notifications: { Bounce: { target: 'https://hooks.example/bounces', includeOriginalHeaders: true, since: 1_764_497_100_000 } },
});

const configurationSet = (name: string, accountId = ACCOUNT): NewConfigurationSet => ({
  accountId,
  name,
  sendingEnabled: true,
  tlsPolicy: 'Require',
  sendingPoolName: 'warm',
  suppressedReasons: ['COMPLAINT'],
  eventDestinations: [
    { name: 'hooks', enabled: true, eventTypes: ['SEND', 'BOUNCE'], target: 'https://hooks.example/events', includeOriginalHeaders: false, createdAt: 1_764_497_200_000 },
    { name: 'log', enabled: false, eventTypes: ['DELIVERY'], target: 'file:/var/log/ses.jsonl' },
  ],
});

const ALLOW_SEND = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ses:SendRawEmail","Resource":"*"}]}';

/** Registers the behaviour every ControlStore must show; `open` returns a fresh, empty store. */
export function controlStoreBehaviour(open: () => Promise<ControlStore>): void {
  const opened: ControlStore[] = [];
  const fresh = async (...accounts: string[]): Promise<ControlStore> => {
    const store = await open();
    opened.push(store);
    for (const id of accounts) await store.accounts.create(account(id));
    return store;
  };
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((store) => store.close()));
  });

  test('accounts: create, get, list by creation, update; a second create of the same id fails', async () => {
    const store = await fresh();
    const created = await store.accounts.create(account(ACCOUNT));
    assert.deepEqual(await store.accounts.get(ACCOUNT), created);
    assert.equal(await store.accounts.get(OTHER), null);
    await assert.rejects(store.accounts.create(account(ACCOUNT, { sandbox: false })), (error: Error) => error instanceof AlreadyExistsError && error.message === `account ${ACCOUNT} already exists`);
    assert.equal((await store.accounts.get(ACCOUNT))?.sandbox, true, 'the failed create changed nothing');
    await new Promise((resolve) => setTimeout(resolve, 2));
    await store.accounts.create(account(OTHER));
    assert.deepEqual((await store.accounts.list()).map((a) => a.id), [ACCOUNT, OTHER]);
    const updated = await store.accounts.update(ACCOUNT, { sandbox: false, maxSendRate: 14.5, max24HourSend: 50_000 });
    assert.deepEqual(updated, { ...created, sandbox: false, maxSendRate: 14.5, max24HourSend: 50_000 });
    assert.deepEqual(await store.accounts.get(ACCOUNT), updated);
    await assert.rejects(store.accounts.update('999999999999', { sandbox: false }), NotFoundError);
    assert.equal(await store.accounts.get('999999999999'), null, 'update does not create');
  });

  test('credentials: every field round-trips; list per account by creation and over all accounts; revoke once', async () => {
    const store = await fresh(OTHER, ACCOUNT);
    const first = await store.credentials.create(credential('AKIAFIRST0000000'));
    assert.equal(first.sealedSecret, null);
    assert.equal(first.revokedAt, null);
    await new Promise((resolve) => setTimeout(resolve, 2));
    const second = await store.credentials.create({ ...credential('AKIASECOND000000'), sealedSecret: 'v1.sealed.secret' });
    const elsewhere = await store.credentials.create(credential('AKIAOTHER0000000', OTHER));
    assert.deepEqual(await store.credentials.get('AKIASECOND000000'), second);
    assert.equal(await store.credentials.get('AKIANONE00000000'), null);
    await assert.rejects(store.credentials.create(credential('AKIAFIRST0000000')), AlreadyExistsError);
    await assert.rejects(store.credentials.create(credential('AKIANOACCOUNT000', '999999999999')), 'the account must exist');
    assert.deepEqual(await store.credentials.list(ACCOUNT), [first, second]);
    assert.deepEqual(await store.credentials.list(), [first, second, elsewhere]);
    assert.equal(await store.credentials.revoke('AKIAFIRST0000000'), true);
    assert.equal(await store.credentials.revoke('AKIAFIRST0000000'), false, 'already revoked');
    assert.equal(await store.credentials.revoke('AKIANONE00000000'), false);
    assert.equal(await store.credentials.get('AKIANONE00000000'), null, 'revoke does not create');
    const revoked = await store.credentials.get('AKIAFIRST0000000');
    assert.ok(revoked?.revokedAt instanceof Date && Math.abs(revoked.revokedAt.getTime() - Date.now()) < 60_000);
    assert.deepEqual({ ...revoked, revokedAt: null }, first);
  });

  test('identities: DKIM keys, MAIL FROM, notifications, verification state round-trip; defaults; list by name', async () => {
    const store = await fresh(ACCOUNT, OTHER);
    const full = await store.identities.create(fullIdentity('example.com'));
    assert.deepEqual(await store.identities.get(ACCOUNT, 'example.com'), full);
    const { feedbackForwarding: _, notifications: __, ...minimal } = { ...fullIdentity('b@Example.org'), type: 'EmailAddress' as const, dkim: null, mailFrom: null, pendingSince: null, lastCheckedAt: null, defaultConfigurationSet: null };
    const plain = await store.identities.create(minimal);
    assert.equal(plain.feedbackForwarding, true, 'on by default, as in SES');
    assert.deepEqual(plain.notifications, {});
    assert.deepEqual(await store.identities.get(ACCOUNT, 'b@Example.org'), plain);
    assert.equal(await store.identities.get(ACCOUNT, 'b@example.org'), null, 'names match exactly');
    await assert.rejects(store.identities.create(fullIdentity('example.com')), (error: Error) => error instanceof AlreadyExistsError && error.message === 'identity example.com already exists');
    await assert.rejects(store.identities.create(fullIdentity('example.com', '999999999999')), 'the account must exist');
    const zebra = await store.identities.create(fullIdentity('Zebra.example'));
    const elsewhere = await store.identities.create(fullIdentity('example.com', OTHER));
    assert.deepEqual((await store.identities.list(ACCOUNT)).map((identity) => identity.name), ['Zebra.example', 'b@Example.org', 'example.com'], 'byte order, as SQLite');
    assert.deepEqual(await store.identities.list(OTHER), [elsewhere]);
    assert.deepEqual((await store.identities.list()).map((identity) => `${identity.accountId}/${identity.name}`), [
      `${ACCOUNT}/Zebra.example`,
      `${ACCOUNT}/b@Example.org`,
      `${ACCOUNT}/example.com`,
      `${OTHER}/example.com`,
    ]);
    const found = await store.identities.findByNames(ACCOUNT, ['example.com', 'nobody.example', 'Zebra.example', 'example.com']);
    assert.deepEqual(found.sort((a, b) => a.name.localeCompare(b.name)), [full, zebra]);
    assert.deepEqual(await store.identities.findByNames(ACCOUNT, []), []);
  });

  test('identities: update replaces fields (also with null and {}); update of a missing one fails', async () => {
    const store = await fresh(ACCOUNT);
    const full = await store.identities.create(fullIdentity('example.com'));
    const checkedAt = new Date('2026-12-01T00:00:00Z');
    const changes = { status: 'Success', verifiedBy: 'dns', pendingSince: null, lastCheckedAt: checkedAt, dkim: null, mailFrom: null, defaultConfigurationSet: null, feedbackForwarding: true, notifications: {} } as const;
    const updated = await store.identities.update(ACCOUNT, 'example.com', changes);
    assert.deepEqual(updated, { ...full, ...changes });
    assert.deepEqual(await store.identities.get(ACCOUNT, 'example.com'), updated);
    await assert.rejects(store.identities.update(ACCOUNT, 'missing.example', { status: 'Success' }), (error: Error) => error instanceof NotFoundError && error.message === 'identity missing.example does not exist');
    assert.equal(await store.identities.get(ACCOUNT, 'missing.example'), null);
  });

  test('identities: delete takes the identity\'s sending authorization policies with it, not the users\'', async () => {
    const store = await fresh(ACCOUNT);
    await store.identities.create(fullIdentity('example.com'));
    await store.identities.create(fullIdentity('example.net'));
    const identity = { kind: 'identity', accountId: ACCOUNT, identity: 'example.com' } as const;
    const user = { kind: 'user', accountId: ACCOUNT, userName: 'example.com' } as const;
    await store.policies.put(identity, 'AllowPartner', ALLOW_SEND);
    await store.policies.put(user, 'AmazonSesSendingAccess', ALLOW_SEND);
    assert.equal(await store.identities.delete(ACCOUNT, 'example.com'), true);
    assert.equal(await store.identities.delete(ACCOUNT, 'example.com'), false);
    assert.equal(await store.identities.get(ACCOUNT, 'example.com'), null);
    assert.deepEqual((await store.identities.list(ACCOUNT)).map((i) => i.name), ['example.net']);
    assert.deepEqual(await store.policies.list(identity), []);
    assert.deepEqual((await store.policies.list(user)).map((policy) => policy.name), ['AmazonSesSendingAccess']);
    assert.deepEqual(await store.policies.targets(ACCOUNT), [user]);
    const again = await store.identities.create(fullIdentity('example.com'));
    assert.deepEqual(await store.identities.get(ACCOUNT, 'example.com'), again, 'the name can be used again');
  });

  test('configuration sets: event destinations and suppression options round-trip; list, update, delete', async () => {
    const store = await fresh(ACCOUNT, OTHER);
    const created = await store.configurationSets.create(configurationSet('ConfigSet'));
    assert.deepEqual(await store.configurationSets.get(ACCOUNT, 'ConfigSet'), created);
    const accountDefault = await store.configurationSets.create({ ...configurationSet('A-set'), suppressedReasons: null, eventDestinations: [], sendingPoolName: null, tlsPolicy: 'Optional' });
    assert.deepEqual(await store.configurationSets.get(ACCOUNT, 'A-set'), accountDefault);
    const none = await store.configurationSets.create({ ...configurationSet('none'), suppressedReasons: [] });
    assert.deepEqual((await store.configurationSets.get(ACCOUNT, 'none'))?.suppressedReasons, [], 'an empty list (off) is not "the account\'s"');
    await assert.rejects(store.configurationSets.create(configurationSet('ConfigSet')), (error: Error) => error instanceof AlreadyExistsError && error.message === 'configuration set ConfigSet already exists');
    await assert.rejects(store.configurationSets.create(configurationSet('ConfigSet', '999999999999')), 'the account must exist');
    const elsewhere = await store.configurationSets.create(configurationSet('ConfigSet', OTHER));
    assert.deepEqual(await store.configurationSets.list(ACCOUNT), [accountDefault, created, none]);
    assert.deepEqual(await store.configurationSets.list(), [accountDefault, created, none, elsewhere]);
    const updated = await store.configurationSets.update(ACCOUNT, 'ConfigSet', { sendingEnabled: false, sendingPoolName: null, eventDestinations: [] });
    assert.deepEqual(updated, { ...created, sendingEnabled: false, sendingPoolName: null, eventDestinations: [] });
    assert.deepEqual(await store.configurationSets.get(ACCOUNT, 'ConfigSet'), updated);
    await assert.rejects(store.configurationSets.update(ACCOUNT, 'missing', { sendingEnabled: false }), NotFoundError);
    assert.equal(await store.configurationSets.delete(ACCOUNT, 'ConfigSet'), true);
    assert.equal(await store.configurationSets.delete(ACCOUNT, 'ConfigSet'), false);
    assert.equal(await store.configurationSets.get(ACCOUNT, 'ConfigSet'), null);
    assert.deepEqual(await store.configurationSets.list(OTHER), [elsewhere]);
  });

  test('policies: put creates or replaces; list by name; delete; targets of the account', async () => {
    const store = await fresh(ACCOUNT, OTHER);
    const user = { kind: 'user', accountId: ACCOUNT, userName: 'ses-smtp-user.20261201' } as const;
    const identity = { kind: 'identity', accountId: ACCOUNT, identity: 'example.com' } as const;
    const sendOnly = await store.policies.put(user, 'SendOnly', ALLOW_SEND);
    assert.deepEqual(await store.policies.get(user, 'SendOnly'), sendOnly);
    assert.equal(await store.policies.get(user, 'Other'), null);
    assert.equal(await store.policies.get({ ...user, accountId: OTHER }, 'SendOnly'), null, 'policies belong to their account');
    const deny = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"ses:*","Resource":"*"}]}';
    await new Promise((resolve) => setTimeout(resolve, 2));
    const replaced = await store.policies.put(user, 'SendOnly', deny);
    assert.ok(replaced.updatedAt > sendOnly.updatedAt);
    const amazon = await store.policies.put(user, 'AmazonSesSendingAccess', ALLOW_SEND);
    assert.deepEqual(await store.policies.list(user), [amazon, replaced]);
    const partner = await store.policies.put(identity, 'AllowPartner', ALLOW_SEND);
    assert.deepEqual(await store.policies.list(identity), [partner]);
    await assert.rejects(store.policies.put({ ...user, accountId: '999999999999' }, 'SendOnly', ALLOW_SEND), 'the account must exist');
    assert.deepEqual(await store.policies.targets(ACCOUNT), [identity, user]);
    assert.deepEqual(await store.policies.targets(OTHER), []);
    assert.equal(await store.policies.delete(user, 'SendOnly'), true);
    assert.equal(await store.policies.delete(user, 'SendOnly'), false);
    assert.deepEqual(await store.policies.list(user), [amazon]);
    assert.equal(await store.policies.delete(identity, 'AllowPartner'), true);
    assert.deepEqual(await store.policies.targets(ACCOUNT), [user], 'a target without policies is no longer listed');
  });

  test('suppression: pages cover every entry once, newest first, also when many share one update time; filters by reason and date', async () => {
    const store = await fresh();
    const at = new Date('2026-12-01T00:00:00Z');
    await store.suppression.put(
      Array.from({ length: 2500 }, (_, n) => ({ accountId: ACCOUNT, emailAddress: `u${n}@example.org`, reason: n < 2000 ? 'BOUNCE' : 'COMPLAINT', lastUpdateTime: n < 2400 ? at : new Date(at.getTime() + n), messageId: null, feedbackId: null }) as const),
    );
    await store.suppression.put([{ accountId: OTHER, emailAddress: 'u1@example.org', reason: 'BOUNCE', messageId: null, feedbackId: null }]);
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
    assert.deepEqual(seen.slice(0, 2), ['u2499@example.org', 'u2498@example.org'], 'newest first');
    assert.deepEqual(seen.slice(100, 103), ['u0@example.org', 'u1000@example.org', 'u1001@example.org'], 'then by address within one time');
    assert.equal((await store.suppression.list(ACCOUNT, { reasons: ['COMPLAINT'], pageSize: 1000 })).entries.length, 500);
    assert.equal((await store.suppression.list(ACCOUNT, { reasons: ['BOUNCE', 'COMPLAINT'], pageSize: 5000 })).entries.length, 2500);
    const recent = await store.suppression.list(ACCOUNT, { startDate: at });
    assert.equal(recent.entries.length, 100, 'after the start date only');
    assert.equal((await store.suppression.list(ACCOUNT, { endDate: new Date(at.getTime() + 2450), pageSize: 5000 })).entries.length, 2450, 'before the end date only');
    const window = await store.suppression.list(ACCOUNT, { startDate: new Date(at.getTime() + 2410), endDate: new Date(at.getTime() + 2420), reasons: ['COMPLAINT'] });
    assert.deepEqual(window.entries.map((entry) => entry.emailAddress), ['u2419@example.org', 'u2418@example.org', 'u2417@example.org', 'u2416@example.org', 'u2415@example.org', 'u2414@example.org', 'u2413@example.org', 'u2412@example.org', 'u2411@example.org']);
    assert.deepEqual([...(await store.suppression.suppressed(ACCOUNT, ['U1@Example.org', 'nobody@example.org']))], ['U1@Example.org']);
  });

  test('suppression: a token stays good when entries are added between pages; a bad token is refused', async () => {
    const store = await fresh();
    const at = Date.UTC(2026, 11, 1);
    await store.suppression.put(Array.from({ length: 5 }, (_, n) => ({ accountId: ACCOUNT, emailAddress: `a${n}@example.org`, reason: 'BOUNCE', lastUpdateTime: new Date(at - n), messageId: null, feedbackId: null }) as const));
    const first = await store.suppression.list(ACCOUNT, { pageSize: 2 });
    assert.deepEqual(first.entries.map((entry) => entry.emailAddress), ['a0@example.org', 'a1@example.org']);
    await store.suppression.put([{ accountId: ACCOUNT, emailAddress: 'new@example.org', reason: 'BOUNCE', lastUpdateTime: new Date(at + 1000), messageId: null, feedbackId: null }]);
    const second = await store.suppression.list(ACCOUNT, { pageSize: 2, nextToken: first.nextToken });
    assert.deepEqual(second.entries.map((entry) => entry.emailAddress), ['a2@example.org', 'a3@example.org']);
    const last = await store.suppression.list(ACCOUNT, { pageSize: 2, nextToken: second.nextToken });
    assert.deepEqual(last.entries.map((entry) => entry.emailAddress), ['a4@example.org']);
    assert.equal(last.nextToken, undefined);
    await assert.rejects(store.suppression.list(ACCOUNT, { nextToken: 'not-a-token' }), (error: Error) => error instanceof InvalidNextTokenError && error.message === 'invalid next token "not-a-token"');
  });

  test('suppression: put updates an entry (reason, time, feedback); get and delete ignore case; counts', async () => {
    const store = await fresh();
    const bounced = new Date('2026-12-01T10:00:00Z');
    assert.equal(await store.suppression.put([{ accountId: ACCOUNT, emailAddress: 'User@Example.org', reason: 'BOUNCE', lastUpdateTime: bounced, messageId: 'm-1', feedbackId: 'f-1' }]), 1);
    assert.deepEqual(await store.suppression.get(ACCOUNT, 'USER@example.ORG'), { accountId: ACCOUNT, emailAddress: 'user@example.org', reason: 'BOUNCE', lastUpdateTime: bounced, messageId: 'm-1', feedbackId: 'f-1' });
    assert.equal(await store.suppression.get(OTHER, 'user@example.org'), null);
    const before = Date.now();
    await store.suppression.put([{ accountId: ACCOUNT, emailAddress: 'user@example.org', reason: 'COMPLAINT', messageId: null, feedbackId: null }]);
    const complained = await store.suppression.get(ACCOUNT, 'user@example.org');
    assert.equal(complained?.reason, 'COMPLAINT');
    assert.equal(complained?.messageId, null);
    assert.ok(complained!.lastUpdateTime.getTime() >= before, 'now when no time is given');
    assert.deepEqual((await store.suppression.list(ACCOUNT, { reasons: ['BOUNCE'] })).entries, [], 'no longer listed under its old reason');
    assert.deepEqual((await store.suppression.list(ACCOUNT, { reasons: ['COMPLAINT'] })).entries, [complained]);
    assert.deepEqual((await store.suppression.list(ACCOUNT)).entries, [complained], 'listed once');
    assert.deepEqual((await store.suppression.list(ACCOUNT, { endDate: bounced })).entries, [], 'its old time is gone from the index');
    assert.equal(await store.suppression.delete(ACCOUNT, ['USER@EXAMPLE.ORG', 'nobody@example.org', 'user@example.org']), 1);
    assert.equal(await store.suppression.get(ACCOUNT, 'user@example.org'), null);
    assert.deepEqual((await store.suppression.list(ACCOUNT)).entries, []);
    assert.equal(await store.suppression.delete(ACCOUNT, []), 0);
    assert.equal(await store.suppression.put([]), 0);
    assert.deepEqual([...(await store.suppression.suppressed(ACCOUNT, []))], []);
  });

  test('suppression: 100,000 addresses in one put, then paged and removed', async (t) => {
    const store = await fresh();
    const entries = Array.from({ length: 100_000 }, (_, n) => ({ accountId: ACCOUNT, emailAddress: `bulk${n}@example.org`, reason: n % 10 === 0 ? 'COMPLAINT' : 'BOUNCE', messageId: null, feedbackId: null }) as const);
    const started = Date.now();
    assert.equal(await store.suppression.put(entries), 100_000);
    t.diagnostic(`put of 100,000 addresses: ${Date.now() - started} ms`);
    assert.equal((await store.suppression.list(ACCOUNT, { reasons: ['COMPLAINT'], pageSize: 20_000 })).entries.length, 10_000);
    const page = await store.suppression.list(ACCOUNT, { pageSize: 99_999 });
    assert.equal(page.entries.length, 99_999);
    assert.equal((await store.suppression.list(ACCOUNT, { pageSize: 10, nextToken: page.nextToken })).entries.length, 1);
    assert.deepEqual([...(await store.suppression.suppressed(ACCOUNT, ['BULK99999@example.org', 'bulk100000@example.org']))], ['BULK99999@example.org']);
    assert.equal(await store.suppression.delete(ACCOUNT, entries.map((entry) => entry.emailAddress)), 100_000);
    assert.deepEqual((await store.suppression.list(ACCOUNT)).entries, []);
  });

  test("suppression: an account's reasons default to BOUNCE and COMPLAINT; set, de-duplicated, or none", async () => {
    const store = await fresh();
    assert.deepEqual(await store.suppression.reasons(ACCOUNT), ['BOUNCE', 'COMPLAINT']);
    await store.suppression.setReasons(ACCOUNT, ['COMPLAINT', 'COMPLAINT']);
    assert.deepEqual(await store.suppression.reasons(ACCOUNT), ['COMPLAINT']);
    await store.suppression.setReasons(ACCOUNT, []);
    assert.deepEqual(await store.suppression.reasons(ACCOUNT), []);
    assert.deepEqual(await store.suppression.reasons(OTHER), ['BOUNCE', 'COMPLAINT']);
  });
}
