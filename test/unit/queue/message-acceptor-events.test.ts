import test from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../../src/log/logger.js';
import { MessageAcceptor } from '../../../src/queue/message-acceptor.js';
import type { QueuedMessage } from '../../../src/queue/queued-message.js';
import { Spool } from '../../../src/queue/spool.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';

const message = (id: string, metadata: Partial<QueuedMessage['metadata']> = {}): QueuedMessage => ({
  id,
  accountId: '123456789012',
  accessKeyId: 'AKIA',
  mailFrom: 'sender@example.com',
  recipients: ['a@example.org', 'b@example.org'],
  header: Buffer.from('From: sender@example.com\r\n'),
  body: Buffer.from('hi\r\n'),
  bodyFile: '',
  size: 32,
  receivedAt: new Date(1_700_000_000_123),
  metadata: { sourceIp: '192.0.2.1', tls: true, heloName: 'client', ses: {}, configurationSet: 'ConfigSet', tags: { a: ['b'] }, ...metadata },
});

test('the acceptor commits a Send event with each message; messages the gateway composes get none', async () => {
  const dataDir = tempDir();
  const queue = SqliteQueueStore.open(dataDir);
  try {
    let appended = 0;
    queue.events.onAppended(() => appended++);
    const acceptor = new MessageAcceptor(new Spool(dataDir), queue, createLogger({ level: 'silent' }));
    await Promise.all([
      acceptor.accept(message('0100018bcfe5687b-00000000-0000-4000-8000-000000000001'), null),
      acceptor.accept(message('0100018bcfe5687b-00000000-0000-4000-8000-000000000002', { systemMessage: 'identity-verification' }), null),
    ]);
    const events = queue.events.read('test', 10);
    assert.deepEqual(
      events.map((event) => [event.type, event.messageId, event.at, event.configurationSet, event.mail.destination, event.detail]),
      [['Send', '0100018bcfe5687b-00000000-0000-4000-8000-000000000001', 1_700_000_000_123, 'ConfigSet', ['a@example.org', 'b@example.org'], {}]],
    );
    assert.equal(events[0]!.mail.timestamp, '2023-11-14T22:13:20.123Z');
    assert.equal(appended, 1, 'one commit, one wake-up for the consumers');
  } finally {
    queue.close();
  }
});
