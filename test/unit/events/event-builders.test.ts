import test from 'node:test';
import assert from 'node:assert/strict';
import { mailEvent, withoutHeaders, type MessageForEvents } from '../../../src/events/event-builders.js';

const message: MessageForEvents = {
  id: '0000014644fe5ef6-9a483358-9170-4cb4-a269-f5dcdf415321-000000',
  accountId: '123456789012',
  mailFrom: 'sender@example.com',
  receivedAt: Date.parse('2016-01-27T14:59:38.237Z'),
  recipients: ['jane@example.com', 'mary@example.com'],
  configurationSet: 'ConfigSet',
  tags: { 'ses:configuration-set': ['ConfigSet'] },
  sourceIp: '192.0.2.1',
  sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/example.com',
  callerIdentity: 'ses_user',
  originalHeaders: [
    { name: 'From', value: '"Sender Name" <sender@example.com>' },
    { name: 'To', value: 'Jane Doe <jane@example.com>, Mary Doe <mary@example.com>' },
    { name: 'Message-ID', value: 'custom-message-ID' },
    { name: 'Subject', value: 'Hello' },
  ],
};

test('the mail object has SES field names, ISO timestamps with milliseconds and Z, and commonHeaders as in the guide', () => {
  const event = mailEvent('Send', message, Date.parse('2016-01-27T14:59:39.000Z'), {}, 'event-1');
  assert.deepEqual(event, {
    id: 'event-1',
    type: 'Send',
    messageId: message.id,
    accountId: '123456789012',
    configurationSet: 'ConfigSet',
    at: Date.parse('2016-01-27T14:59:39.000Z'),
    detail: {},
    mail: {
      timestamp: '2016-01-27T14:59:38.237Z',
      messageId: message.id,
      source: 'sender@example.com',
      sourceArn: 'arn:aws:ses:us-east-1:123456789012:identity/example.com',
      sourceIp: '192.0.2.1',
      callerIdentity: 'ses_user',
      sendingAccountId: '123456789012',
      destination: ['jane@example.com', 'mary@example.com'],
      tags: { 'ses:configuration-set': ['ConfigSet'] },
      headersTruncated: false,
      headers: message.originalHeaders,
      commonHeaders: {
        from: ['Sender Name <sender@example.com>'],
        to: ['Jane Doe <jane@example.com>, Mary Doe <mary@example.com>'],
        messageId: 'custom-message-ID',
        subject: 'Hello',
      },
    },
  });
  assert.deepEqual(Object.keys(withoutHeaders(event.mail)), ['timestamp', 'messageId', 'source', 'sourceArn', 'sourceIp', 'callerIdentity', 'sendingAccountId', 'destination', 'tags']);
});
