import test from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { MessageAcceptor } from '../../../src/queue/message-acceptor.js';
import { Spool } from '../../../src/queue/spool.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { SmtpReply } from '../../../src/common/smtp-reply.js';
import { tempDir } from '../../support/gateway-process.js';
import { queuedMessage as message } from './queued-message-fixture.js';

test('a message the store refuses fails alone, not the messages that shared its group commit', async () => {
  const dataDir = tempDir();
  const queue = SqliteQueueStore.open(dataDir);
  const acceptor = new MessageAcceptor(new Spool(dataDir), queue, pino({ level: 'silent' }));
  // The same recipient twice breaks the deliveries' unique key: the store refuses that message.
  const results = await Promise.allSettled([
    acceptor.accept(message('good-1', ['a@example.org']), null),
    acceptor.accept(message('bad', ['dup@example.org', 'dup@example.org']), null),
    acceptor.accept(message('good-2', ['b@example.org']), null),
  ]);
  assert.deepEqual(results.map((result) => result.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.ok(queue.get('good-1') && queue.get('good-2'));
  assert.equal(queue.get('bad'), null);
  queue.close();
});

test('reply texts stay ASCII: 8-bit bytes a client sent come back as ?', () => {
  assert.equal(new SmtpReply(554, 'Configuration set does not exist: Configuration set cafÃ© does not exist.').toString(), '554 Configuration set does not exist: Configuration set caf?? does not exist.');
});
