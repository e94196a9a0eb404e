import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { controlStoreDeliverySettings } from '../../../src/app/control-store-delivery-settings.js';
import { StoreUnavailableError } from '../../../src/common/store-unavailable.js';
import { createIdentity } from '../../../src/identity/identity-service.js';
import { cachedControlStore, type CachedControlStore } from '../../../src/store/cached-control-store.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { capturingLogger } from '../../support/fault-watch.js';
import { tempDir } from '../../support/gateway-process.js';
import { StoreOutage } from '../../support/store-outage.js';

const ACCOUNT = '111122223333';
const DAY_MS = 24 * 3600_000;

/**
 * The delivery engine's view of the control store in cluster mode (the cache's unlimited-grace view, as the gateway
 * wires it) while Redis is unreachable: accepted mail keeps going with what was read before.
 */
describe('delivery settings while the cluster store is unreachable', () => {
  let sqlite: SqliteControlStore;
  const outage = new StoreOutage();
  let cached: CachedControlStore;
  let now = 5_000_000;
  const { log, records } = capturingLogger();
  /** A fresh settings object each time, so that its own short-lived memo does not hide the cache below it. */
  const settings = () => controlStoreDeliverySettings(cached.withGrace(Number.POSITIVE_INFINITY), log);

  before(async () => {
    sqlite = SqliteControlStore.open(tempDir('relaygate-delivery-outage-'));
    await sqlite.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 1000 });
    await createIdentity(sqlite, { accountId: ACCOUNT, name: 'example.com', dkim: { generate: 'rsa-1024', ed25519: false }, verified: true });
    await sqlite.suppression.put([{ accountId: ACCOUNT, emailAddress: 'gone@example.net', reason: 'BOUNCE', messageId: null, feedbackId: null }]);
    cached = cachedControlStore(outage.controlStore(sqlite), { graceMs: 30_000, now: () => now });
  });
  after(() => sqlite.close());

  test('DKIM keys read before the outage still sign a day into it; a domain never read cannot be signed', async () => {
    const signers = await settings().dkimSigners(ACCOUNT, 'example.com');
    assert.equal(signers.length, 1);
    outage.down = true;
    now += DAY_MS;
    assert.deepEqual(await settings().dkimSigners(ACCOUNT, 'example.com'), signers);
    await assert.rejects(settings().dkimSigners(ACCOUNT, 'other.example'), StoreUnavailableError);
    outage.down = false;
    // Past the second in which an unreachable store is not asked again.
    now += 1000;
  });

  test('the suppression list read before still applies; recipients never looked up go unchecked, with one warning', async () => {
    const before = settings();
    assert.deepEqual([...(await before.suppressedRecipients(ACCOUNT, null, ['gone@example.net', 'new@example.net']))], ['gone@example.net']);
    outage.down = true;
    now += DAY_MS;
    const during = settings();
    assert.deepEqual([...(await during.suppressedRecipients(ACCOUNT, null, ['gone@example.net', 'new@example.net']))], ['gone@example.net']);
    assert.deepEqual([...(await during.suppressedRecipients(ACCOUNT, null, ['other@example.net']))], []);
    assert.deepEqual([...(await during.suppressedRecipients(ACCOUNT, null, ['third@example.net']))], []);
    const warnings = records.filter((record) => record.msg === 'suppression list unreachable: delivering without checking it');
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.account, ACCOUNT);
    outage.down = false;
  });

  test('errors other than an unreachable store still fail the lookup', async () => {
    const broken = controlStoreDeliverySettings({ ...sqlite, suppression: { ...sqlite.suppression, reasons: () => Promise.reject(new TypeError('a bug')), suppressed: () => Promise.reject(new TypeError('a bug')) } } as never, log);
    await assert.rejects(broken.suppressedRecipients(ACCOUNT, null, ['a@example.net']), TypeError);
  });
});
