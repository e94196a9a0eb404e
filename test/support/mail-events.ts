import { mailEvent, type MessageForEvents } from '../../src/events/event-builders.js';
import type { MailEvent } from '../../src/events/mail-event.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';

export const T0 = Date.parse('2026-11-23T10:00:00.123Z');

/** A message as a producer describes it to the event builders, with original headers. */
export function testMessage(id: string, accountId: string, overrides: Partial<MessageForEvents> = {}): MessageForEvents {
  return {
    id: `0100019ab3c2d4e5-${id.padStart(8, '0')}-1111-2222-3333-444444444444-000000`,
    accountId,
    mailFrom: 'sender@example.com',
    receivedAt: T0,
    recipients: ['recipient@example.net'],
    configurationSet: 'ConfigSet',
    tags: { 'ses:configuration-set': ['ConfigSet'], 'ses:from-domain': ['example.com'] },
    sourceIp: '192.0.2.10',
    sourceArn: `arn:aws:ses:us-east-1:${accountId}:identity/example.com`,
    callerIdentity: 'test-user',
    originalHeaders: [
      { name: 'From', value: 'Sender <sender@example.com>' },
      { name: 'To', value: 'recipient@example.net' },
      { name: 'Subject', value: `Message ${id}` },
    ],
    headersTruncated: false,
    ...overrides,
  };
}

export const sendEvent = (message: MessageForEvents, at = T0): MailEvent => mailEvent('Send', message, at, {});

export const deliveryEvent = (message: MessageForEvents, at = T0 + 1000): MailEvent =>
  mailEvent('Delivery', message, at, {
    timestamp: new Date(at).toISOString(),
    processingTimeMillis: at - message.receivedAt,
    recipients: [...message.recipients],
    smtpResponse: '250 2.0.0 Ok: queued as 4Bx',
    reportingMTA: 'relay.example.com',
    remoteMtaIp: '127.0.0.2',
  });

export const bounceEvent = (message: MessageForEvents, at = T0 + 2000): MailEvent =>
  mailEvent(
    'Bounce',
    message,
    at,
    {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: message.recipients[0]!, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
      timestamp: new Date(at).toISOString(),
      feedbackId: `feedback-${message.id}`,
      reportingMTA: 'dsn; relay.example.com',
      remoteMtaIp: '127.0.0.2',
    },
    `feedback-${message.id}`,
  );

export const complaintEvent = (message: MessageForEvents, at = T0 + 3000): MailEvent =>
  mailEvent(
    'Complaint',
    message,
    at,
    {
      complainedRecipients: [{ emailAddress: message.recipients[0]! }],
      timestamp: new Date(at).toISOString(),
      feedbackId: `complaint-${message.id}`,
      complaintSubType: null,
      userAgent: 'ExampleCorp Feedback Loop (V0.01)',
      complaintFeedbackType: 'abuse',
      arrivalDate: new Date(at - 500).toISOString(),
    },
    `complaint-${message.id}`,
  );

export const delayEvent = (message: MessageForEvents, at = T0 + 4000): MailEvent =>
  mailEvent('DeliveryDelay', message, at, {
    timestamp: new Date(at).toISOString(),
    delayType: 'TransientCommunicationFailure',
    expirationTime: new Date(message.receivedAt + 120 * 3_600_000).toISOString(),
    delayedRecipients: [{ emailAddress: message.recipients[0]!, status: '4.4.1', diagnosticCode: 'smtp; 421 4.4.1 Unable to connect to remote host' }],
  });

/** Appends events to a data directory's event log, as a producer in another process would. */
export function appendEvents(dataDir: string, events: readonly MailEvent[]): void {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    queue.events.append(events);
  } finally {
    queue.close();
  }
}
