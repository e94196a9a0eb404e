import test from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { EventConsumer } from '../../../src/events/event-consumer.js';
import { mailEvent, type MessageForEvents } from '../../../src/events/event-builders.js';
import type { MailEvent } from '../../../src/events/mail-event.js';
import { suppressionRecorder } from '../../../src/feedback/suppression/suppression-recorder.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { SqliteControlStore } from '../../../src/store/sqlite/sqlite-control-store.js';
import { tempDir } from '../../support/gateway-process.js';

const ACCOUNT = '111122223333';
const AT = Date.parse('2026-12-01T10:00:00.000Z');

const message = (id: string, configurationSet: string | null): MessageForEvents => ({
  id,
  accountId: ACCOUNT,
  mailFrom: 'sender@example.com',
  receivedAt: AT,
  recipients: ['a@example.org'],
  configurationSet,
  tags: {},
});

const bounce = (id: string, recipient: string, bounceType: 'Permanent' | 'Transient', configurationSet: string | null = null, bounceSubType = 'General'): MailEvent =>
  mailEvent('Bounce', message(`m-${id}`, configurationSet), AT, { bounceType, bounceSubType, bouncedRecipients: [{ emailAddress: recipient }], timestamp: new Date(AT).toISOString(), feedbackId: id }, id);

const complaint = (id: string, recipient: string, configurationSet: string | null = null): MailEvent =>
  mailEvent('Complaint', message(`m-${id}`, configurationSet), AT, { complainedRecipients: [{ emailAddress: recipient }], timestamp: new Date(AT).toISOString(), feedbackId: id, complaintSubType: null }, id);

async function until(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met within 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test("hard bounces and complaints add their recipients per the configuration set's reasons, else the account's", async () => {
  const dataDir = tempDir();
  const store = SqliteControlStore.open(dataDir);
  const queue = SqliteQueueStore.open(dataDir);
  await store.accounts.create({ id: ACCOUNT, sandbox: false, sendingEnabled: true, maxSendRate: 10, max24HourSend: 1000 });
  await store.configurationSets.create({ accountId: ACCOUNT, name: 'complaints-only', sendingEnabled: true, tlsPolicy: 'Optional', sendingPoolName: null, suppressedReasons: ['COMPLAINT'], eventDestinations: [] });
  await store.configurationSets.create({ accountId: ACCOUNT, name: 'inherits', sendingEnabled: true, tlsPolicy: 'Optional', sendingPoolName: null, suppressedReasons: null, eventDestinations: [] });
  const consumer = new EventConsumer(queue.events, suppressionRecorder(store), pino({ level: 'silent' }));
  consumer.start();
  queue.events.append([
    bounce('b1', 'Hard@Example.org', 'Permanent'),
    bounce('b2', 'soft@example.org', 'Transient'),
    bounce('b3', 'listed@example.org', 'Permanent', null, 'OnAccountSuppressionList'),
    bounce('b4', 'set-bounce@example.org', 'Permanent', 'complaints-only'),
    complaint('c1', 'set-complaint@example.org', 'complaints-only'),
    bounce('b5', 'inherited@example.org', 'Permanent', 'inherits'),
  ]);
  await until(async () => queue.events.backlog('suppression-list') === 0);
  const listed = (await store.suppression.list(ACCOUNT)).entries.map((entry) => [entry.emailAddress, entry.reason, entry.messageId, entry.feedbackId]);
  assert.deepEqual(listed.sort(), [
    ['hard@example.org', 'BOUNCE', 'm-b1', 'b1'],
    ['inherited@example.org', 'BOUNCE', 'm-b5', 'b5'],
    ['set-complaint@example.org', 'COMPLAINT', 'm-c1', 'c1'],
  ]);

  await store.suppression.setReasons(ACCOUNT, []);
  queue.events.append([bounce('b6', 'off@example.org', 'Permanent'), complaint('c2', 'set-complaint-2@example.org', 'complaints-only')]);
  await until(async () => queue.events.backlog('suppression-list') === 0);
  assert.equal(await store.suppression.get(ACCOUNT, 'off@example.org'), null, "the account's reasons are off");
  assert.ok(await store.suppression.get(ACCOUNT, 'set-complaint-2@example.org'), "the set's own reasons still apply");
  await consumer.stop();
  queue.close();
  await store.close();
});
