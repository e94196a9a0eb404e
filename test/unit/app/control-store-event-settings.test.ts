import test from 'node:test';
import assert from 'node:assert/strict';
import { controlStoreEventSettings } from '../../../src/app/control-store-event-settings.js';
import type { MailEvent } from '../../../src/events/mail-event.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { verifiedIdentity } from '../../support/provision.js';

const ACCOUNT = '111122223333';
const topic = { target: 'https://hooks.example/ses', includeOriginalHeaders: false, since: 0 };

const sentBy = (source: string) => ({ accountId: ACCOUNT, mail: { source } }) as unknown as MailEvent;

test('the identity notified for an event is the one of the address in its source, whatever its display name holds', async () => {
  const store = SqliteControlStore.open(tempDir());
  await store.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 1000 });
  await store.identities.create({ ...verifiedIdentity(ACCOUNT, 'ops@sender.example'), notifications: { Bounce: topic } });
  const settings = controlStoreEventSettings(store);
  const notified = async (source: string) => (await settings.notifyingIdentities(sentBy(source))).map((identity) => identity.name);
  assert.deepEqual(await notified('ops@sender.example'), ['ops@sender.example']);
  assert.deepEqual(await notified('Ops <ops@sender.example>'), ['ops@sender.example']);
  assert.deepEqual(await notified('"Sales <EU" <ops@sender.example> '), ['ops@sender.example'], 'a stray < in the display name');
  assert.deepEqual(await notified('"Ops" <ops@other.example>'), []);
  // Many '<' and no '>': no address in brackets, so the text as it is, which is no identity's. Each '<' is looked at
  // once (the old pattern read on to the end of the text from each of them).
  assert.deepEqual(await notified(`${'<'.repeat(20_000)}ops@sender.example`), []);
  await store.close();
});
