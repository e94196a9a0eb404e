import test from 'node:test';
import assert from 'node:assert/strict';
import { maintainQueue } from '../../../src/app/queue-maintenance.js';
import { mailEvent } from '../../../src/events/event-builders.js';
import { generateMessageId } from '../../../src/message/message-id.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';
import { queuedMessage } from './queued-message-fixture.js';

const NOW = Date.parse('2026-12-04T12:00:00.000Z');
const HOUR = 3_600_000;
const retention = { eventHours: 72, completedHours: 168 };

test('old events every consumer passed, and statistics older than two weeks, are removed', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  const message = { id: 'm', accountId: '111122223333', mailFrom: 'a@example.com', receivedAt: NOW, recipients: ['b@example.org'], configurationSet: null, tags: {} };
  queue.events.append([mailEvent('Send', message, NOW - 100 * HOUR, {}, 'old'), mailEvent('Send', message, NOW - 100 * HOUR, {}, 'old-unread'), mailEvent('Send', message, NOW - HOUR, {}, 'recent')]);
  const [old] = queue.events.read('destination', 1);
  queue.events.advance('destination', old!.seq);
  await queue.statistics.apply([{ accountId: '111122223333', configurationSet: '', bucket: NOW - 16 * 24 * HOUR, counts: { deliveryAttempts: 1 } }, { accountId: '111122223333', configurationSet: '', bucket: NOW - HOUR, counts: { deliveryAttempts: 2 } }], 'send-statistics', old!.seq);
  assert.deepEqual(await maintainQueue(queue, retention, NOW), { events: 1, statisticsBuckets: 1, completedMessages: 0 });
  assert.deepEqual(queue.events.read('other-reader', 10).map((event) => event.id), ['old-unread', 'recent'], 'the one nobody read yet stays, however old');
  assert.deepEqual((await queue.statistics.dataPoints('111122223333', 0)).map((point) => point.deliveryAttempts), [2]);
  queue.close();
});

test('messages complete for longer than their retention go with their results, in batches; the rest stay', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  const accepted = (receivedAt: number, recipients = ['to@example.org']) => ({ ...queuedMessage(generateMessageId('n1', receivedAt), recipients), receivedAt: new Date(receivedAt) });
  // 1,200 old complete messages: three batches of at most 500.
  const oldComplete = Array.from({ length: 1200 }, (_, index) => accepted(NOW - 300 * HOUR + index));
  const recentlyComplete = accepted(NOW - 300 * HOUR + 5000);
  const oldPending = accepted(NOW - 400 * HOUR, ['a@one.example', 'b@two.example']);
  const newComplete = accepted(NOW - HOUR);
  await queue.insert([oldPending, ...oldComplete, recentlyComplete, newComplete]);
  for (const message of oldComplete) queue.operations.delete({ messageId: message.id }, NOW - 200 * HOUR);
  queue.operations.delete({ messageId: recentlyComplete.id }, NOW - 100 * HOUR);
  queue.operations.delete({ messageId: newComplete.id }, NOW - HOUR);
  queue.operations.delete({ messageId: oldPending.id, domain: 'one.example' }, NOW - 200 * HOUR);

  assert.equal((await maintainQueue(queue, retention, NOW)).completedMessages, 1200);
  assert.equal(queue.details(oldComplete[0]!.id), null);
  assert.equal(queue.details(oldComplete[1199]!.id), null);
  assert.equal(queue.details(recentlyComplete.id)?.completedAt?.getTime(), NOW - 100 * HOUR, 'complete for less than 168 hours');
  assert.equal(queue.details(newComplete.id)?.deliveries.length, 1);
  assert.deepEqual(
    queue.details(oldPending.id)?.deliveries.map((delivery) => delivery.recipient),
    ['a@one.example', 'b@two.example'],
    'an old message with a recipient still to do stays whole',
  );
  assert.deepEqual(queue.list().map((summary) => summary.id).sort(), [oldPending.id, recentlyComplete.id, newComplete.id].sort());
  assert.equal(queue.leases.claim(NOW, 10, 60_000).deliveries.length, 1, 'the pending recipient is still delivered');
  assert.equal((await maintainQueue(queue, retention, NOW)).completedMessages, 0);
  queue.close();
});

test('a pass that is stopped removes no further batch', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  const messages = Array.from({ length: 600 }, (_, index) => ({ ...queuedMessage(generateMessageId('n1', NOW - 300 * HOUR + index), ['to@example.org']), receivedAt: new Date(NOW - 300 * HOUR + index) }));
  await queue.insert(messages);
  queue.operations.delete({ accountId: '111122223333' }, NOW - 200 * HOUR);
  let batches = 0;
  const pass = await maintainQueue(queue, retention, NOW, () => batches++ > 0);
  assert.equal(pass.completedMessages, 500);
  assert.equal(queue.list().length, 100);
  queue.close();
});
