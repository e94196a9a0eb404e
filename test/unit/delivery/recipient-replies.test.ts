import test from 'node:test';
import assert from 'node:assert/strict';
import { REMOTE_TEXT_LIMIT } from '../../../src/common/bounded-text.js';
import { recipientReplies } from '../../../src/delivery/recipient-replies.js';
import type { SendInfo, SmtpError } from '../../../src/delivery/smtp-client.js';

const smtpError = (fields: Partial<SmtpError> & { message: string }): SmtpError => Object.assign(new Error(fields.message), fields) as SmtpError;
const refused = (recipient: string, response: string) => smtpError({ message: 'Recipient command failed', code: 'EENVELOPE', command: 'RCPT TO', response, recipient });

test('a delivered transaction: accepted recipients get the DATA reply, refused ones their own RCPT reply', () => {
  const info = { accepted: ['a@x.test'], rejected: ['b@x.test'], rejectedErrors: [refused('b@x.test', '550 5.1.1 no such user')], response: '250 2.0.0 Ok: queued as 1234', envelopeTime: 1, messageTime: 1, messageSize: 10 } as SendInfo;
  assert.deepEqual(recipientReplies(['a@x.test', 'b@x.test'], { info }), [
    { recipient: 'a@x.test', reply: '250 2.0.0 Ok: queued as 1234', stage: 'data' },
    { recipient: 'b@x.test', reply: '550 5.1.1 no such user', stage: 'rcpt' },
  ]);
});

test('a failed transaction: the reply that failed it, at the command that drew it; a lost connection as its error and code', () => {
  const mail = smtpError({ message: 'Mail command failed', code: 'EENVELOPE', command: 'MAIL FROM', response: '553 5.7.1 Sender rejected' });
  assert.deepEqual(recipientReplies(['a@x.test'], { error: mail }), [{ recipient: 'a@x.test', reply: '553 5.7.1 Sender rejected', stage: 'mail' }]);

  const everyone = smtpError({ message: "Can't send mail - all recipients were rejected", code: 'EENVELOPE', command: 'RCPT TO', response: '452 4.2.2 full', rejectedErrors: [refused('a@x.test', '452 4.2.2 full'), refused('b@x.test', '550 5.1.1 unknown')] });
  assert.deepEqual(recipientReplies(['a@x.test', 'b@x.test'], { error: everyone }).map(({ reply }) => reply), ['452 4.2.2 full', '550 5.1.1 unknown']);

  const data = smtpError({ message: 'Message failed', code: 'EMESSAGE', command: 'DATA', response: '554 5.7.1 spam' });
  assert.deepEqual(recipientReplies(['a@x.test'], { error: data }), [{ recipient: 'a@x.test', reply: '554 5.7.1 spam', stage: 'data' }]);

  const lost = smtpError({ message: 'Connection closed unexpectedly', code: 'ECONNECTION', command: 'CONN' });
  assert.deepEqual(recipientReplies(['a@x.test'], { error: lost }), [{ recipient: 'a@x.test', reply: 'Connection closed unexpectedly (ECONNECTION)', stage: 'connect' }]);
});

test('a server reply is kept to 2,048 characters, saying how long it was, for every recipient it answers', () => {
  const long = `550 5.1.1 ${'x'.repeat(1_000_000)}`;
  const kept = `${long.slice(0, REMOTE_TEXT_LIMIT)}... (${long.length} characters in all)`;
  const everyone = smtpError({ message: "Can't send mail - all recipients were rejected", code: 'EENVELOPE', command: 'RCPT TO', response: long, rejectedErrors: [refused('a@x.test', long), refused('b@x.test', long)] });
  assert.deepEqual(recipientReplies(['a@x.test', 'b@x.test'], { error: everyone }).map(({ reply }) => reply), [kept, kept]);
  const info = { accepted: ['a@x.test'], rejected: [], rejectedErrors: [], response: `250 ${'y'.repeat(5000)}`, envelopeTime: 1, messageTime: 1, messageSize: 10 } as unknown as SendInfo;
  const [delivered] = recipientReplies(['a@x.test'], { info });
  assert.equal(delivered!.reply, `250 ${'y'.repeat(REMOTE_TEXT_LIMIT - 4)}... (5004 characters in all)`);
  assert.equal(REMOTE_TEXT_LIMIT, 2048);
  // A reply within the limit is kept as it is.
  assert.deepEqual(recipientReplies(['a@x.test'], { error: smtpError({ message: 'Message failed', code: 'EMESSAGE', command: 'DATA', response: `554 ${'z'.repeat(2044)}` }) })[0]!.reply, `554 ${'z'.repeat(2044)}`);
});
