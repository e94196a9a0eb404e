import test from 'node:test';
import assert from 'node:assert/strict';
import { commonHeaders } from '../../../src/events/event-builders.js';

test('commonHeaders as in the guide (L6700-6750): quotes around display names dropped, a multi-recipient To one element', () => {
  const common = commonHeaders([
    { name: 'From', value: '"John Doe" <john@example.com>' },
    { name: 'To', value: '"Jane Doe" <jane@example.com>, "Mary Doe" <mary@example.com>, "Richard Doe" <richard@example.com>' },
    { name: 'Message-ID', value: 'custom-message-ID' },
    { name: 'Subject', value: 'Hello' },
    { name: 'Date', value: 'Wed, 27 Jan 2016 14:05:45 +0000' },
  ]);
  assert.deepEqual(common, {
    from: ['John Doe <john@example.com>'],
    to: ['Jane Doe <jane@example.com>, Mary Doe <mary@example.com>, Richard Doe <richard@example.com>'],
    messageId: 'custom-message-ID',
    subject: 'Hello',
    date: 'Wed, 27 Jan 2016 14:05:45 +0000',
  });
});

test('commonHeaders: bare addresses stay bare; names that need quotes keep them; cc, bcc, reply-to, return-path', () => {
  const common = commonHeaders([
    { name: 'from', value: 'sender@example.com' },
    { name: 'TO', value: 'recipient@example.com' },
    { name: 'Cc', value: '"Doe, Jane" <jane@example.com>, "J. \\"Q\\" Public" <q@example.com>' },
    { name: 'Bcc', value: 'hidden@example.com' },
    { name: 'Reply-To', value: 'Help Desk <help@example.com>' },
    { name: 'Return-Path', value: '<bounces@example.com>' },
  ]);
  assert.deepEqual(common, {
    from: ['sender@example.com'],
    to: ['recipient@example.com'],
    cc: ['"Doe, Jane" <jane@example.com>, "J. \\"Q\\" Public" <q@example.com>'],
    bcc: ['hidden@example.com'],
    replyTo: ['Help Desk <help@example.com>'],
    returnPath: '<bounces@example.com>',
  });
});

test('commonHeaders: an address field that does not parse is shown as sent', () => {
  assert.deepEqual(commonHeaders([{ name: 'To', value: 'undisclosed-recipients:;' }]), { to: ['undisclosed-recipients:;'] });
});
