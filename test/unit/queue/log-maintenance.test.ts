import test from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { startLogMaintenance } from '../../../src/app/log-maintenance.js';
import { mailEvent } from '../../../src/events/event-builders.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';

const NOW = Date.parse('2026-12-04T12:00:00.000Z');
const HOUR = 3_600_000;

test('old events every consumer passed, and statistics older than two weeks, are removed at start', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  const message = { id: 'm', accountId: '111122223333', mailFrom: 'a@example.com', receivedAt: NOW, recipients: ['b@example.org'], configurationSet: null, tags: {} };
  queue.events.append([mailEvent('Send', message, NOW - 100 * HOUR, {}, 'old'), mailEvent('Send', message, NOW - 100 * HOUR, {}, 'old-unread'), mailEvent('Send', message, NOW - HOUR, {}, 'recent')]);
  const [old] = queue.events.read('destination', 1);
  queue.events.advance('destination', old!.seq);
  await queue.statistics.apply([{ accountId: '111122223333', configurationSet: '', bucket: NOW - 16 * 24 * HOUR, counts: { deliveryAttempts: 1 } }, { accountId: '111122223333', configurationSet: '', bucket: NOW - HOUR, counts: { deliveryAttempts: 2 } }], 'send-statistics', old!.seq);
  const stop = startLogMaintenance(queue, 72, pino({ level: 'silent' }), () => NOW);
  stop();
  assert.deepEqual(queue.events.read('other-reader', 10).map((event) => event.id), ['old-unread', 'recent'], 'the one nobody read yet stays, however old');
  assert.deepEqual((await queue.statistics.dataPoints('111122223333', 0)).map((point) => point.deliveryAttempts), [2]);
  queue.close();
});
