import test from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { FeedbackParserPool } from '../../../src/feedback/intake/feedback-parser-pool.js';
import { readFeedback } from '../../../src/feedback/intake/read-feedback.js';
import { arfText, autoReplyText, dsnText } from '../../support/feedback-messages.js';

test('parser threads read feedback exactly as the main thread does, each answer to its own request', async () => {
  const pool = new FeedbackParserPool(2, pino({ level: 'silent' }));
  try {
    const messages = Array.from({ length: 12 }, (_, index) =>
      Buffer.from(
        index % 3 === 0
          ? dsnText({ returnPath: 'b-1-0000000000000@feedback.test', messageId: `<dsn-${index}@mx.test>`, recipients: [{ final: `user${index}@alpha.test`, action: 'failed', status: '5.1.1', diagnostic: `smtp; 550 5.1.1 user${index}` }] })
          : index % 3 === 1
            ? arfText({ returnPath: 'b-1-0000000000000@feedback.test', originalRcptTo: [`user${index}@alpha.test`], originalHeaders: ['To: x@alpha.test'] })
            : autoReplyText('b-1-0000000000000@feedback.test'),
      ),
    );
    const fromThreads = await Promise.all(messages.map((raw) => pool.read(raw)));
    const inline = await Promise.all(messages.map((raw) => readFeedback(raw)));
    assert.deepEqual(fromThreads, inline);
    assert.equal(fromThreads[0]!.kind, 'delivery-status');
    assert.ok(fromThreads[0]!.kind === 'delivery-status' && fromThreads[0]!.header.date instanceof Date, 'dates survive the thread boundary');
    assert.deepEqual(await pool.read(Buffer.from('not mail at all')), { kind: 'unreadable', reason: 'neither a delivery status notification, a feedback report nor an automatic reply' });
  } finally {
    await pool.close();
  }
});

test('a closed pool starts a fresh thread for the next request', async () => {
  const pool = new FeedbackParserPool(1, pino({ level: 'silent' }));
  const raw = Buffer.from(autoReplyText('b-1-0000000000000@feedback.test'));
  assert.deepEqual(await pool.read(raw), { kind: 'automatic-reply' });
  await pool.close();
  assert.deepEqual(await pool.read(raw), { kind: 'automatic-reply' });
  await pool.close();
});
