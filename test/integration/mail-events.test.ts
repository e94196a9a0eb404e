import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredMailEvent } from '../../src/events/mail-event.js';
import { FORWARDING_CONSUMER } from '../../src/feedback/forwarding/feedback-forwarder.js';
import { reportMessageId } from '../../src/feedback/forwarding/feedback-report.js';
import { formatRfc5322Date } from '../../src/message/rfc5322-date.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { cliJson } from '../support/cli-runner.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import type { SinkBehaviour, SinkMx } from '../support/sink-mx.js';
import { startSinks, submit, testDeliveryConfig, waitForDetails, waitForFinal } from '../support/delivery-fixture.js';

const FEEDBACK_DOMAIN = 'bounces.relaygate.test';
const HOUR = 3_600_000;
const LIFETIME_HOURS = 120;
const UNKNOWN_USER = '550 5.1.1 <gone@unknown.test>: Recipient address rejected: User unknown';
const MAILBOX_FULL = '451 4.2.2 <later@delay.test>: Mailbox full';
const SES_ID = /^[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Every event in the log, oldest first (read from a cursor of the test's own that never advances). */
function allEvents(dataDir: string): StoredMailEvent[] {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return queue.events.read('test-reader', 100_000);
  } finally {
    queue.close();
  }
}

const eventsOf = (dataDir: string, messageId: string): StoredMailEvent[] => allEvents(dataDir).filter((event) => event.messageId === messageId);

/** Re-reads the log until the message's events have the expected types; the deadline only bounds a test that would hang. */
async function waitForEvents(dataDir: string, messageId: string, types: string[], timeoutMs = 20_000): Promise<StoredMailEvent[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = eventsOf(dataDir, messageId);
    if (events.length >= types.length) {
      assert.deepEqual(events.map((event) => event.type), types);
      return events;
    }
    if (Date.now() > deadline) throw new Error(`message ${messageId} has events ${JSON.stringify(events.map((event) => event.type))}, expected ${JSON.stringify(types)}`);
    await sleep(50);
  }
}

/** Waits until the feedback forwarder has passed every event in the log (it advances only after queuing its reports). */
async function waitForForwarderIdle(dataDir: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const queue = SqliteQueueStore.open(dataDir);
    try {
      if (queue.events.backlog(FORWARDING_CONSUMER) === 0) return;
    } finally {
      queue.close();
    }
    if (Date.now() > deadline) throw new Error('the feedback forwarder did not catch up with the event log');
    await sleep(50);
  }
}

/** Answers the first `times` calls with `first`, then accepts. */
function firstThen(times: number, first: ReturnType<SinkBehaviour>): SinkBehaviour {
  let calls = 0;
  return (ctx) => (ctx.stage === 'RCPT' && calls++ < times ? first : 'accept');
}

describe('events: Send at acceptance, Delivery, Bounce and DeliveryDelay from results, bounce reports by email', () => {
  let dns: TestDnsServer;
  let sinks: Record<string, SinkMx>;
  let gateway: GatewayProcess;
  let credential: TestCredential;
  const arn = (identity: string) => `arn:aws:ses:us-east-1:${credential.accountId}:identity/${identity}`;

  before(async () => {
    const started = await startSinks([
      // The senders' mailboxes, where forwarded reports arrive.
      { host: '127.0.0.20' },
      { host: '127.0.0.21' },
      { host: '127.0.0.22', behaviour: (ctx) => (ctx.stage === 'RCPT' && ctx.recipient === 'gone@unknown.test' ? UNKNOWN_USER : 'accept') },
      { host: '127.0.0.23', behaviour: firstThen(1, MAILBOX_FULL) },
      // A sender whose own mailbox refuses everything: the report about its bounce bounces too.
      { host: '127.0.0.24', behaviour: (ctx) => (ctx.stage === 'RCPT' ? '550 5.1.1 No such mailbox' : 'accept') },
    ]);
    sinks = Object.fromEntries(started.map((sink) => [sink.host, sink]));
    const mx = (host: string, address: string) => ({ [host]: { MX: [{ exchange: `mx.${host}`, priority: 10 }] }, [`mx.${host}`]: { A: [address] } });
    dns = await startDnsServer({
      ...mx('example.com', '127.0.0.20'),
      ...mx('quiet.example', '127.0.0.20'),
      ...mx('accept.test', '127.0.0.21'),
      ...mx('unknown.test', '127.0.0.22'),
      ...mx('delay.test', '127.0.0.23'),
      ...mx('loop.example', '127.0.0.24'),
      // Nothing listens on 127.0.0.25.
      ...mx('down.test', '127.0.0.25'),
    });
    gateway = await startGatewayProcess({
      config: {
        smtp: { hostname: 'relaygate.test' },
        ...testDeliveryConfig(dns, started[0]!.port, {
          feedbackDomain: FEEDBACK_DOMAIN,
          queueLifetimeHours: LIFETIME_HOURS,
          retry: { firstDelaySeconds: 1, maxDelaySeconds: 2 },
          connectTimeoutMs: 1000,
        }),
      },
    });
    credential = await provisionCredential(gateway.dataDir, { verifiedIdentities: ['example.com', 'quiet.example', 'loop.example'] });
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([...Object.values(sinks).map((sink) => sink.close()), dns.close()]);
  });

  test('550 5.1.1: Send then Bounce with the exact fields, original headers kept; the sender gets a DSN by email from <>', async () => {
    const id = await submit(gateway, credential, {
      mailFrom: 'sender@example.com',
      from: '"Sender Name" <sender@example.com>',
      to: ['gone@unknown.test'],
      subject: 'Bounce me',
      extraHeaders: ['X-SES-CONFIGURATION-SET: ConfigSet', 'X-SES-MESSAGE-TAGS: campaign=book', 'X-Long: folded', '\tcontinuation'],
    });
    const details = await waitForFinal(gateway.dataDir, id);
    const [send, bounce] = await waitForEvents(gateway.dataDir, id, ['Send', 'Bounce']);
    const receivedAt = details.receivedAt.getTime();
    const mail = {
      timestamp: new Date(receivedAt).toISOString(),
      messageId: id,
      source: 'sender@example.com',
      sourceArn: arn('example.com'),
      sourceIp: '127.0.0.1',
      callerIdentity: 'test-user',
      sendingAccountId: credential.accountId,
      destination: ['gone@unknown.test'],
      tags: {
        campaign: ['book'],
        'ses:configuration-set': ['ConfigSet'],
        'ses:source-ip': ['127.0.0.1'],
        'ses:from-domain': ['example.com'],
        'ses:caller-identity': ['test-user'],
      },
      headersTruncated: false,
      headers: [
        { name: 'From', value: '"Sender Name" <sender@example.com>' },
        { name: 'To', value: 'gone@unknown.test' },
        { name: 'Subject', value: 'Bounce me' },
        { name: 'X-SES-CONFIGURATION-SET', value: 'ConfigSet' },
        { name: 'X-SES-MESSAGE-TAGS', value: 'campaign=book' },
        { name: 'X-Long', value: 'folded\tcontinuation' },
      ],
      commonHeaders: { from: ['Sender Name <sender@example.com>'], to: ['gone@unknown.test'], subject: 'Bounce me' },
    };
    assert.match(send!.id, UUID);
    assert.deepEqual(send, { seq: send!.seq, id: send!.id, type: 'Send', messageId: id, accountId: credential.accountId, configurationSet: 'ConfigSet', at: receivedAt, mail, detail: {} });

    const [delivery] = details.deliveries;
    const bouncedAt = delivery!.finishedAt!.getTime();
    assert.match(bounce!.id, SES_ID, 'the feedbackId has the form of an SES id');
    assert.deepEqual(bounce, {
      seq: bounce!.seq,
      id: bounce!.id,
      type: 'Bounce',
      messageId: id,
      accountId: credential.accountId,
      configurationSet: 'ConfigSet',
      at: bouncedAt,
      mail,
      detail: {
        bounceType: 'Permanent',
        bounceSubType: 'NoEmail',
        bouncedRecipients: [{ emailAddress: 'gone@unknown.test', action: 'failed', status: '5.1.1', diagnosticCode: `smtp; ${UNKNOWN_USER}` }],
        timestamp: new Date(bouncedAt).toISOString(),
        feedbackId: bounce!.id,
        reportingMTA: 'dns; relaygate.test',
        remoteMtaIp: '127.0.0.22',
      },
    });

    const [report] = await sinks['127.0.0.20']!.waitForMessages(1);
    assert.equal(report!.mailFrom, '', 'the report comes from the null sender, so nothing can bounce back to it');
    assert.deepEqual(report!.rcptTo, ['sender@example.com']);
    const raw = report!.raw.toString('utf8');
    const reportId = reportMessageId(bounce!);
    const boundary = `=_relaygate-${reportId}`;
    const [header, body] = [raw.slice(0, raw.indexOf('\r\n\r\n') + 2), raw.slice(raw.indexOf('\r\n\r\n') + 4)];
    assert.match(header, /^From: MAILER-DAEMON@bounces\.relaygate\.test\r\n/m);
    assert.match(header, /^To: sender@example\.com\r\n/m);
    assert.match(header, /^Subject: Delivery Status Notification \(Failure\)\r\n/m);
    assert.match(header, new RegExp(`^Message-ID: <${reportId}@relaygate\\.test>\\r\\n`, 'm'));
    assert.match(header, new RegExp(`^Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"\\r\\n`, 'm'));
    assert.match(header, /^Auto-Submitted: auto-replied\r\n/m);
    const parts = body.split(`--${boundary}`);
    assert.equal(parts.length, 5, 'preamble, three parts, closing');
    assert.equal(parts[1], '\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nAn error occurred while trying to deliver the mail to the following recipients:\r\ngone@unknown.test\r\n\r\n');
    assert.equal(
      parts[2],
      '\r\nContent-Type: message/delivery-status\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' +
        `Reporting-MTA: dns; relaygate.test\r\nX-SES-Message-ID: ${id}\r\nArrival-Date: ${formatRfc5322Date(new Date(receivedAt))}\r\n\r\n` +
        `Final-Recipient: rfc822; gone@unknown.test\r\nAction: failed\r\nStatus: 5.1.1\r\nRemote-MTA: dns; [127.0.0.22]\r\n` +
        `Diagnostic-Code: smtp; ${UNKNOWN_USER}\r\nLast-Attempt-Date: ${formatRfc5322Date(new Date(bouncedAt))}\r\n\r\n`,
    );
    assert.equal(
      parts[3],
      '\r\nContent-Type: text/rfc822-headers\r\nContent-Transfer-Encoding: 7bit\r\n\r\n' +
        'From: "Sender Name" <sender@example.com>\r\nTo: gone@unknown.test\r\nSubject: Bounce me\r\nX-SES-CONFIGURATION-SET: ConfigSet\r\n' +
        'X-SES-MESSAGE-TAGS: campaign=book\r\nX-Long: folded\tcontinuation\r\n\r\n',
    );
    assert.equal(parts[4], '--\r\n');
    assert.deepEqual(eventsOf(gateway.dataDir, reportId), [], 'the report itself causes no events');
  });

  test('250: Send then Delivery, with processingTimeMillis, the SMTP response, the remote MTA and ses:outgoing-ip', async () => {
    const id = await submit(gateway, credential, { to: ['one@accept.test', 'two@accept.test'] });
    const details = await waitForFinal(gateway.dataDir, id);
    const [, delivery] = await waitForEvents(gateway.dataDir, id, ['Send', 'Delivery']);
    const deliveredAt = details.deliveries[0]!.finishedAt!.getTime();
    assert.equal(delivery!.at, deliveredAt);
    assert.deepEqual(delivery!.detail, {
      timestamp: new Date(deliveredAt).toISOString(),
      processingTimeMillis: deliveredAt - details.receivedAt.getTime(),
      recipients: ['one@accept.test', 'two@accept.test'],
      smtpResponse: details.deliveries[0]!.response!,
      reportingMTA: 'relaygate.test',
      remoteMtaIp: '127.0.0.21',
    });
    assert.match(delivery!.detail.smtpResponse, /^250 /);
    assert.deepEqual(delivery!.mail.tags['ses:outgoing-ip'], ['127.0.0.1'], 'the address the delivery left from');
    assert.deepEqual(delivery!.mail.destination, ['one@accept.test', 'two@accept.test']);
    assert.equal(delivery!.mail.sourceArn, arn('example.com'));
  });

  test('451 4.2.2: DeliveryDelay MailboxFull with the queue lifetime as expirationTime, then Delivery', async () => {
    const id = await submit(gateway, credential, { to: ['later@delay.test'] });
    const details = await waitForFinal(gateway.dataDir, id);
    const [, delay, delivery] = await waitForEvents(gateway.dataDir, id, ['Send', 'DeliveryDelay', 'Delivery']);
    assert.equal(delay!.type, 'DeliveryDelay');
    assert.deepEqual(delay!.detail, {
      timestamp: new Date(delay!.at).toISOString(),
      delayType: 'MailboxFull',
      expirationTime: new Date(details.receivedAt.getTime() + LIFETIME_HOURS * HOUR).toISOString(),
      delayedRecipients: [{ emailAddress: 'later@delay.test', status: '4.2.2', diagnosticCode: `smtp; ${MAILBOX_FULL}` }],
      reportingMTA: '127.0.0.23',
    });
    assert.equal(delivery!.type, 'Delivery');
    assert.ok(delay!.at < delivery!.at);
    assert.equal(sinks['127.0.0.20']!.messages.filter((message) => message.rcptTo.includes('sender@example.com')).length, 1, 'a delay is not forwarded');
  });

  test('no MX host reachable: DeliveryDelay TransientCommunicationFailure, 4.4.1, no reportingMTA', async () => {
    const id = await submit(gateway, credential, { to: ['user@down.test'] });
    await waitForDetails(gateway.dataDir, id, (details) => details.deliveries[0]!.state === 'deferred');
    const [, delay] = await waitForEvents(gateway.dataDir, id, ['Send', 'DeliveryDelay']);
    assert.equal(delay!.type, 'DeliveryDelay');
    const { delayType, delayedRecipients, reportingMTA } = delay!.detail;
    assert.deepEqual([delayType, delayedRecipients.map((recipient) => recipient.status), reportingMTA], ['TransientCommunicationFailure', ['4.4.1'], undefined]);
    assert.match(delayedRecipients[0]!.diagnosticCode, /^smtp; .*ECONNREFUSED/);
  });

  test('feedback forwarding off for an identity with bounce and complaint notification topics: no report', async () => {
    // As in SES, forwarding can be off only while notifications for both types go somewhere else.
    const topic = 'http://127.0.0.1:9/notifications';
    const updated = await cliJson<{ FeedbackForwardingEnabled: boolean }>(
      gateway.dataDir, 'identity', 'update', 'quiet.example', '--account', credential.accountId, '--feedback-forwarding', 'false', '--notification', `Bounce=${topic}`, '--notification', `Complaint=${topic}`,
    );
    assert.equal(updated.FeedbackForwardingEnabled, false);
    const id = await submit(gateway, credential, { mailFrom: 'quiet@quiet.example', from: 'quiet@quiet.example', to: ['gone@unknown.test'] });
    const [, bounce] = await waitForEvents(gateway.dataDir, id, ['Send', 'Bounce']);
    assert.equal(bounce!.mail.sourceArn, arn('quiet.example'));
    await waitForForwarderIdle(gateway.dataDir);
    const queue = SqliteQueueStore.open(gateway.dataDir);
    try {
      assert.equal(queue.get(reportMessageId(bounce!)), null, 'no report was queued');
    } finally {
      queue.close();
    }
    assert.deepEqual(sinks['127.0.0.20']!.messages.filter((message) => message.rcptTo.includes('quiet@quiet.example')), []);
  });

  test('a report that bounces causes no event and no report about the report (no loops)', async () => {
    const id = await submit(gateway, credential, { mailFrom: 'nobody@loop.example', from: 'nobody@loop.example', to: ['gone@unknown.test'] });
    const [, bounce] = await waitForEvents(gateway.dataDir, id, ['Send', 'Bounce']);
    const reportId = reportMessageId(bounce!);
    const report = await waitForFinal(gateway.dataDir, reportId);
    assert.deepEqual(
      report.deliveries.map((delivery) => [delivery.recipient, delivery.state, delivery.response]),
      [['nobody@loop.example', 'bounced', '550 5.1.1 No such mailbox']],
    );
    assert.equal(report.mailFrom, '');
    await waitForForwarderIdle(gateway.dataDir);
    assert.deepEqual(eventsOf(gateway.dataDir, reportId), []);
    const forwarded = allEvents(gateway.dataDir).filter((event) => event.type === 'Bounce' && event.mail.source !== 'quiet@quiet.example');
    const queue = SqliteQueueStore.open(gateway.dataDir);
    try {
      assert.deepEqual(
        queue.list().filter((message) => message.mailFrom === '').map((message) => message.id).sort(),
        forwarded.map(reportMessageId).sort(),
        'one report per forwarded bounce, none about a report',
      );
    } finally {
      queue.close();
    }
  });

  test('Reject: a message the content checks refuse (554, before acceptance) causes no event at all', async () => {
    await assert.rejects(
      submit(gateway, credential, { to: ['refused@accept.test'], extraHeaders: ['MIME-Version: 1.0', 'Content-Type: application/octet-stream; name="setup.exe"'], body: 'TVqQAAMAAAAEAAAA\r\n' }),
      /554 Transaction failed: Attachment 'setup.exe' has an unsupported file type\./,
    );
    // Another message's acceptance commits after the refusal: had the refused one caused an event, it would be in the log by then.
    const later = await submit(gateway, credential, { to: ['one@accept.test'] });
    await waitForEvents(gateway.dataDir, later, ['Send', 'Delivery']);
    assert.deepEqual(allEvents(gateway.dataDir).filter((event) => event.mail.destination.includes('refused@accept.test')), []);
  });
});
