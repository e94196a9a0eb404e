import test from 'node:test';
import assert from 'node:assert/strict';
import type { MailEvent } from '../../../src/events/mail-event.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import type { SqliteDatabase } from '../../../src/store/sqlite/database.js';
import { tempDir } from '../../support/gateway-process.js';

const T0 = Date.parse('2026-11-23T10:00:00Z');

function sendEvent(id: string, messageId: string, at: number): MailEvent {
  return {
    id,
    type: 'Send',
    messageId,
    accountId: '111122223333',
    configurationSet: null,
    at,
    mail: { timestamp: new Date(at).toISOString(), messageId, source: 'sender@example.com', sendingAccountId: '111122223333', destination: ['a@one.test'], tags: {} },
    detail: {},
  };
}

test('events are read in commit order from each consumer cursor, once advanced never again, and survive a reopen', async () => {
  const dataDir = tempDir();
  const queue = SqliteQueueStore.open(dataDir);
  let notified = 0;
  queue.events.onAppended(() => notified++);
  await queue.insert(
    [
      {
        id: 'm1',
        accountId: '111122223333',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        mailFrom: 'sender@example.com',
        recipients: ['a@one.test'],
        header: Buffer.from('From: sender@example.com\r\n'),
        body: Buffer.from('hi\r\n'),
        bodyFile: '',
        size: 30,
        receivedAt: new Date(T0),
        metadata: { sourceIp: '127.0.0.1', tls: true, heloName: 'client', ses: {}, configurationSet: null, tags: {} },
      },
    ],
    [sendEvent('e1', 'm1', T0)],
  );
  queue.events.append([sendEvent('e2', 'm1', T0 + 1), sendEvent('e1', 'm1', T0 + 2)]);
  assert.equal(notified, 2);

  const first = queue.events.read('webhook', 10);
  assert.deepEqual(first.map((event) => [event.id, event.seq > 0]), [['e1', true], ['e2', true]], 'the repeated id e1 is not appended twice');
  assert.equal(first[0]!.mail.messageId, 'm1');
  queue.events.advance('webhook', first[0]!.seq);
  assert.equal(queue.events.backlog('webhook'), 1);
  assert.equal(queue.events.read('stats', 10).length, 2, 'another consumer has its own cursor');
  assert.equal(queue.events.prune(T0 + 10), 0, 'nothing is pruned before every consumer has passed it');
  queue.events.advance('stats', first[1]!.seq);
  queue.events.advance('webhook', first[1]!.seq);
  queue.close();

  const reopened = SqliteQueueStore.open(dataDir);
  assert.deepEqual(reopened.events.read('webhook', 10), []);
  assert.equal(reopened.events.prune(T0 + 1), 1, 'only events older than the limit go');
  assert.equal(reopened.events.prune(T0 + 10), 1);
  reopened.close();
});

test('consumers read what this process committed from a parsed tail; another process\'s events and a rolled-back transaction\'s are read as the table has them; pruning empties the tail', () => {
  const dataDir = tempDir();
  const queue = SqliteQueueStore.open(dataDir);
  queue.events.append([sendEvent('e1', 'm1', T0), sendEvent('e2', 'm1', T0 + 1)]);
  const statistics = queue.events.read('stats', 10);
  const suppression = queue.events.read('suppression', 10);
  assert.deepEqual(statistics.map((event) => event.id), ['e1', 'e2']);
  assert.equal(suppression[0], statistics[0], 'the second consumer gets the event objects the first one got');

  queue.events.append([sendEvent('e3', 'm1', T0 + 2)]);
  const metrics = queue.events.read('metrics', 10);
  assert.deepEqual(metrics.map((event) => event.id), ['e1', 'e2', 'e3'], 'a commit just made is read at once');
  assert.equal(metrics[0], statistics[0], 'its events are not parsed again');
  assert.deepEqual(queue.events.read('stats', 1).map((event) => event.id), ['e1'], 'the limit holds');

  // Another process (the CLI) appends between two commits of this one: its event is only in the table.
  queue.events.advance('metrics', metrics[2]!.seq);
  const other = SqliteQueueStore.open(dataDir);
  other.events.append([sendEvent('e4', 'm1', T0 + 3)]);
  other.close();
  queue.events.append([sendEvent('e5', 'm1', T0 + 4)]);
  const afterGap = queue.events.read('metrics', 10);
  assert.deepEqual(afterGap.map((event) => [event.id, event.seq]), [['e4', 4], ['e5', 5]]);

  // A transaction that appended and rolled back leaves nothing; the next commit reuses its seq.
  const db = (queue as unknown as { db: SqliteDatabase }).db;
  assert.throws(
    db.transaction(() => {
      queue.events.appendWithin([sendEvent('e6', 'm1', T0 + 5)]);
      throw new Error('rolled back');
    }),
    /rolled back/,
  );
  queue.events.advance('metrics', afterGap[1]!.seq);
  assert.deepEqual(queue.events.read('metrics', 10), [], 'nothing of it is read');
  queue.events.append([sendEvent('e7', 'm1', T0 + 6)]);
  const afterRollback = queue.events.read('metrics', 10);
  assert.deepEqual(afterRollback.map((event) => [event.id, event.seq]), [['e7', 6]]);

  // An event appended again (its id is in the log) uses up a seq: the gap it leaves is no reason to read the table.
  queue.events.append([sendEvent('e7', 'm1', T0 + 6), sendEvent('e8', 'm1', T0 + 7)]);
  const afterConflict = queue.events.read('metrics', 10);
  assert.deepEqual(afterConflict.map((event) => event.id), ['e7', 'e8']);
  assert.equal(afterConflict[0], afterRollback[0], 'read from the tail');

  for (const consumer of ['stats', 'suppression', 'metrics']) queue.events.advance(consumer, statistics[1]!.seq);
  assert.equal(queue.events.prune(T0 + 10), 2);
  assert.deepEqual(queue.events.read('webhook', 10).map((event) => event.id), ['e3', 'e4', 'e5', 'e7', 'e8'], 'a consumer registered after pruning starts at what is left');
  queue.close();
});

test('a tail that cannot be checked against the table (an I/O error) is given up: nothing is thrown, consumers read the table', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  const log = queue.events as unknown as { selectIds: { all: (...args: unknown[]) => unknown } };
  const selectIds = log.selectIds;
  log.selectIds = { all: () => { throw new Error('disk I/O error'); } };
  queue.events.append([sendEvent('e1', 'm1', T0)]);
  await new Promise((resolve) => setImmediate(resolve));
  log.selectIds = selectIds;
  assert.deepEqual(queue.events.read('stats', 10).map((event) => event.id), ['e1']);
  queue.close();
});
