import test from 'node:test';
import assert from 'node:assert/strict';
import { controlStoreForwardingSettings } from '../../../src/feedback/forwarding/forwarding-settings.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { verifiedIdentity } from '../../support/provision.js';

const ACCOUNT = '111122223333';
const topic = { target: 'https://hooks.example/ses', includeOriginalHeaders: false, since: 0 };

test('forwarding off counts only while bounce and complaint notifications both have topics; unknown identities forward', async () => {
  const store = SqliteControlStore.open(tempDir());
  await store.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 1000 });
  await store.identities.create({ ...verifiedIdentity(ACCOUNT, 'off.example'), feedbackForwarding: false });
  await store.identities.create({ ...verifiedIdentity(ACCOUNT, 'bounce-only.example'), feedbackForwarding: false, notifications: { Bounce: topic } });
  await store.identities.create({ ...verifiedIdentity(ACCOUNT, 'both.example'), feedbackForwarding: false, notifications: { Bounce: topic, Complaint: topic } });
  await store.identities.create({ ...verifiedIdentity(ACCOUNT, 'on.example'), notifications: { Bounce: topic, Complaint: topic } });
  const settings = controlStoreForwardingSettings(store);
  assert.equal(await settings.forwardingEnabled(ACCOUNT, 'off.example'), true, 'no topics: still forwarded');
  assert.equal(await settings.forwardingEnabled(ACCOUNT, 'bounce-only.example'), true, 'complaints would go nowhere');
  assert.equal(await settings.forwardingEnabled(ACCOUNT, 'both.example'), false);
  assert.equal(await settings.forwardingEnabled(ACCOUNT, 'on.example'), true);
  assert.equal(await settings.forwardingEnabled(ACCOUNT, 'gone.example'), true);
  await store.close();
});
