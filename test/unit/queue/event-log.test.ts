import test from 'node:test';
import assert from 'node:assert/strict';
import type { MailEvent } from '../../../src/events/mail-event.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
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

test('consumers at the same cursor share one parsed batch; a commit after it is read by the next batch; pruning forgets kept batches', () => {
  const queue = SqliteQueueStore.open(tempDir());
  queue.events.append([sendEvent('e1', 'm1', T0), sendEvent('e2', 'm1', T0 + 1)]);
  const statistics = queue.events.read('stats', 10);
  const suppression = queue.events.read('suppression', 10);
  assert.equal(suppression, statistics, 'the second consumer gets the batch the first one read');
  assert.deepEqual(statistics.map((event) => event.id), ['e1', 'e2']);

  queue.events.append([sendEvent('e3', 'm1', T0 + 2)]);
  const metrics = queue.events.read('metrics', 10);
  assert.deepEqual(metrics.map((event) => event.id), ['e1', 'e2', 'e3'], 'a kept batch with room takes what was committed since');
  assert.equal(metrics[0], statistics[0], 'its events are not parsed again');
  assert.deepEqual(queue.events.read('stats', 1).map((event) => event.id), ['e1'], 'another limit is another batch');
  queue.events.advance('metrics', metrics[1]!.seq);
  assert.deepEqual(queue.events.read('metrics', 10).map((event) => event.id), ['e3']);

  for (const consumer of ['stats', 'suppression', 'metrics']) queue.events.advance(consumer, statistics[1]!.seq);
  assert.equal(queue.events.prune(T0 + 10), 2);
  assert.deepEqual(queue.events.read('webhook', 10).map((event) => event.id), ['e3'], 'a consumer registered after pruning starts at what is left');
  queue.close();
});
