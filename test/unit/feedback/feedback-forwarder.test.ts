import test from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { mailEvent, type MessageForEvents } from '../../../src/events/event-builders.js';
import type { MailEvent } from '../../../src/events/mail-event.js';
import { EventConsumer } from '../../../src/events/event-consumer.js';
import { FeedbackForwarder, FORWARDING_CONSUMER } from '../../../src/feedback/forwarding/feedback-forwarder.js';
import { reportMessageId } from '../../../src/feedback/forwarding/feedback-report.js';
import type { FeedbackForwardingSettings } from '../../../src/feedback/forwarding/forwarding-settings.js';
import { createLogger } from '../../../src/log/logger.js';
import type { QueueStore } from '../../../src/queue/queue-store.js';
import type { QueuedMessage } from '../../../src/queue/queued-message.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { tempDir } from '../../support/gateway-process.js';

const ACCOUNT = '123456789012';
const log = createLogger({ level: 'silent' });
const report = { hostname: 'relaygate.test', fromDomain: 'bounces.relaygate.test', messageIdDomain: 'relaygate.test' };

function queuedMessage(id: string, mailFrom: string, metadata: Partial<QueuedMessage['metadata']> = {}): QueuedMessage {
  const header = Buffer.from('From: sender@example.com\r\n');
  return {
    id,
    accountId: ACCOUNT,
    accessKeyId: 'AKIA',
    mailFrom,
    recipients: ['jane@example.org'],
    header,
    body: Buffer.from('hello\r\n'),
    bodyFile: '',
    size: header.length + 9,
    receivedAt: new Date(1_700_000_000_000),
    metadata: { sourceIp: '192.0.2.1', tls: true, heloName: 'client', ses: {}, configurationSet: null, tags: {}, ...metadata },
  };
}

const forEvents = (message: QueuedMessage, sourceArn?: string): MessageForEvents => ({
  id: message.id,
  accountId: ACCOUNT,
  mailFrom: message.mailFrom,
  receivedAt: message.receivedAt.getTime(),
  recipients: message.recipients,
  configurationSet: null,
  tags: {},
  sourceArn,
  originalHeaders: [{ name: 'From', value: 'Sender <sender@example.com>' }],
});

function bounce(message: QueuedMessage, id: string, sourceArn?: string): MailEvent {
  const at = 1_700_000_060_000;
  return mailEvent(
    'Bounce',
    forEvents(message, sourceArn),
    at,
    {
      bounceType: 'Permanent',
      bounceSubType: 'General',
      bouncedRecipients: [{ emailAddress: 'jane@example.org', action: 'failed', status: '5.0.0', diagnosticCode: 'smtp; 550 user unknown' }],
      timestamp: new Date(at).toISOString(),
      feedbackId: id,
      reportingMTA: 'dns; relaygate.test',
    },
    id,
  );
}

function complaint(message: QueuedMessage, id: string): MailEvent {
  const at = 1_700_000_090_000;
  return mailEvent(
    'Complaint',
    forEvents(message),
    at,
    { complainedRecipients: [{ emailAddress: 'jane@example.org' }], timestamp: new Date(at).toISOString(), feedbackId: id, complaintSubType: null, userAgent: 'ExampleCorp Feedback Loop (V0.01)', complaintFeedbackType: 'abuse' },
    id,
  );
}

async function idle(queue: QueueStore): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (queue.events.backlog(FORWARDING_CONSUMER) > 0) {
    if (Date.now() > deadline) throw new Error('the forwarder did not catch up');
    await sleep(10);
  }
}

const enabledExcept = (disabled: string[]): FeedbackForwardingSettings => ({ forwardingEnabled: async (_account, identity) => !disabled.includes(identity) });

test('bounces and complaints become reports to the envelope sender; others, a null sender, a report, forwarding off: none', async () => {
  const queue = SqliteQueueStore.open(tempDir());
  let wakes = 0;
  const forwarder = new EventConsumer(queue.events, new FeedbackForwarder({ queue, settings: enabledExcept(['quiet.example']), report, queued: () => wakes++, log, now: () => 1_700_000_100_000 }), log);
  try {
    forwarder.start();
    const sent = queuedMessage('0100018bcfe56800-00000000-0000-4000-8000-000000000001', 'sender@example.com');
    const nullSender = queuedMessage('0100018bcfe56800-00000000-0000-4000-8000-000000000002', '');
    const quiet = queuedMessage('0100018bcfe56800-00000000-0000-4000-8000-000000000003', 'quiet@quiet.example');
    const aReport = queuedMessage('0100018bcfe56800-00000000-0000-4000-8000-000000000004', 'x@example.com', { systemMessage: 'feedback-report' });
    const events = [
      mailEvent('Send', forEvents(sent), 1, {}),
      bounce(sent, 'bounce-1', `arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`),
      complaint(sent, 'complaint-1'),
      bounce(nullSender, 'bounce-2'),
      bounce(quiet, 'bounce-3', `arn:aws:ses:us-east-1:${ACCOUNT}:identity/quiet.example`),
      bounce(aReport, 'bounce-4'),
    ];
    await queue.insert([sent, nullSender, quiet, aReport], events);
    await idle(queue);
    const reports = queue.list().filter((message) => message.mailFrom === '' && message.id !== nullSender.id);
    assert.deepEqual(reports.map((message) => [message.id, message.recipients]).sort(), [
      [reportMessageId(events[1]!), ['sender@example.com']],
      [reportMessageId(events[2]!), ['sender@example.com']],
    ].sort());
    assert.equal(wakes, 1, 'the delivery engine is woken once for the pass');
    const complaintReport = queue.get(reportMessageId(events[2]!))!;
    assert.equal(complaintReport.metadata.systemMessage, 'feedback-report');
    const text = `${complaintReport.header.toString()}\r\n${complaintReport.body!.toString()}`;
    assert.match(text, /^Content-Type: multipart\/report; report-type=feedback-report; boundary="/m);
    assert.match(
      text,
      /\r\nContent-Type: message\/feedback-report\r\nContent-Transfer-Encoding: 7bit\r\n\r\nFeedback-Type: abuse\r\nUser-Agent: ExampleCorp Feedback Loop \(V0\.01\)\r\nVersion: 1\r\nOriginal-Mail-From: <sender@example\.com>\r\nOriginal-Rcpt-To: <jane@example\.org>\r\nArrival-Date: Tue, 14 Nov 2023 22:14:50 \+0000\r\nX-SES-Message-ID: 0100018bcfe56800-00000000-0000-4000-8000-000000000001\r\n/,
    );
    assert.match(text, /\r\nContent-Type: text\/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\nFrom: Sender <sender@example\.com>\r\n/);
  } finally {
    await forwarder.stop();
    queue.close();
  }
});

test('an event read again after a crash before the cursor moved is not forwarded twice', async () => {
  const dataDir = tempDir();
  const queue = SqliteQueueStore.open(dataDir);
  // The first forwarder queues its report, then fails to move its cursor (as if the process died there).
  const failingAdvance: QueueStore = Object.create(queue, {
    events: { value: Object.assign(Object.create(queue.events), { advance: () => { throw new Error('crash before the cursor moved'); } }) },
  });
  const first = new EventConsumer(failingAdvance.events, new FeedbackForwarder({ queue: failingAdvance, settings: enabledExcept([]), report, queued: () => undefined, log }), log);
  const sent = queuedMessage('0100018bcfe56800-00000000-0000-4000-8000-000000000005', 'sender@example.com');
  const event = bounce(sent, 'bounce-5');
  try {
    await queue.insert([sent], [event]);
    first.start();
    const deadline = Date.now() + 10_000;
    while (!queue.get(reportMessageId(event))) {
      if (Date.now() > deadline) throw new Error('no report');
      await sleep(10);
    }
    await first.stop();
    assert.equal(queue.events.backlog(FORWARDING_CONSUMER), 1, 'the event is still unread for the forwarder');

    const second = new EventConsumer(queue.events, new FeedbackForwarder({ queue, settings: enabledExcept([]), report, queued: () => undefined, log }), log);
    second.start();
    await idle(queue);
    await second.stop();
    assert.deepEqual(queue.list().filter((message) => message.mailFrom === '').map((message) => message.id), [reportMessageId(event)]);
  } finally {
    queue.close();
  }
});
