import type { QueuedMessage } from '../../../src/queue/queued-message.js';

/** A small message with an inline body, as a session hands it to the acceptor. */
export const queuedMessage = (id: string, recipients: string[]): QueuedMessage => ({
  id,
  accountId: '111122223333',
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  mailFrom: 'sender@example.com',
  recipients,
  header: Buffer.from('From: sender@example.com\r\n'),
  body: Buffer.from('hi\r\n'),
  bodyFile: '',
  size: 30,
  receivedAt: new Date(),
  metadata: { sourceIp: '127.0.0.1', tls: true, heloName: 'client', ses: {}, configurationSet: null, tags: {} },
});
