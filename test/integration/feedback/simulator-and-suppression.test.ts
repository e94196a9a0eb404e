import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { StoredMailEvent } from '../../../src/events/mail-event.js';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { cli, cliJson } from '../../support/cli-runner.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';
import { startGatewayProcess, type GatewayProcess } from '../../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../../support/provision.js';
import type { SinkMx } from '../../support/sink-mx.js';
import { startSinks, submit, testDeliveryConfig, waitForFinal } from '../../support/delivery-fixture.js';

function eventsOf(dataDir: string, messageId: string): StoredMailEvent[] {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return queue.events.read('test-reader', 100_000).filter((event) => event.messageId === messageId);
  } finally {
    queue.close();
  }
}

async function waitForEvents(dataDir: string, messageId: string, count: number): Promise<StoredMailEvent[]> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const events = eventsOf(dataDir, messageId);
    if (events.length >= count) return events;
    if (Date.now() > deadline) throw new Error(`message ${messageId} has events ${JSON.stringify(events.map((event) => event.type))}, expected ${count}`);
    await sleep(50);
  }
}

const typesOf = (events: StoredMailEvent[]) => events.map((event) => event.type);
const bounceOf = (events: StoredMailEvent[]) => events.find((event) => event.type === 'Bounce')!.detail as { bounceType: string; bounceSubType: string; bouncedRecipients: Array<{ emailAddress: string; status?: string; diagnosticCode?: string }> };

describe('mailbox simulator and the account-level suppression list, through a real gateway', () => {
  let dns: TestDnsServer;
  let senderMailbox: SinkMx;
  let recipients: SinkMx;
  let gateway: GatewayProcess;
  let credential: TestCredential;

  before(async () => {
    [senderMailbox, recipients] = await startSinks([
      { host: '127.0.0.30' },
      { host: '127.0.0.31', behaviour: (ctx) => (ctx.stage === 'RCPT' && ctx.recipient === 'gone@remote.test' ? '550 5.1.1 User unknown' : 'accept') },
    ]);
    // simulator.amazonses.com is deliberately absent: any lookup or connection would fail the tests.
    dns = await startDnsServer({
      'example.com': { MX: [{ exchange: 'mx.example.com', priority: 10 }] },
      'mx.example.com': { A: ['127.0.0.30'] },
      'remote.test': { MX: [{ exchange: 'mx.remote.test', priority: 10 }] },
      'mx.remote.test': { A: ['127.0.0.31'] },
    });
    gateway = await startGatewayProcess({ config: { smtp: { hostname: 'relaygate.test' }, ...testDeliveryConfig(dns, senderMailbox.port, { feedbackDomain: 'bounces.relaygate.test' }) } });
    credential = await provisionCredential(gateway.dataDir);
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([senderMailbox.close(), recipients.close(), dns.close()]);
  });

  test('each simulator address (with a +label) gives the guide\'s outcome without touching the network, and the sender gets the reports', async () => {
    const to = ['success@simulator.amazonses.com', 'bounce+label1@simulator.amazonses.com', 'ooto@simulator.amazonses.com', 'complaint@simulator.amazonses.com', 'suppressionlist@simulator.amazonses.com'];
    const id = await submit(gateway, credential, { mailFrom: 'sender@example.com', to, subject: 'Simulate' });
    const details = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.recipient, delivery.state, delivery.response, delivery.bounceType, delivery.bounceSubType]),
      [
        ['success@simulator.amazonses.com', 'delivered', '250 2.6.0 Message received', null, null],
        ['bounce+label1@simulator.amazonses.com', 'bounced', '550 5.1.1 user unknown', 'Permanent', 'General'],
        ['ooto@simulator.amazonses.com', 'delivered', '250 2.6.0 Message received', null, null],
        ['complaint@simulator.amazonses.com', 'delivered', '250 2.6.0 Message received', null, null],
        ['suppressionlist@simulator.amazonses.com', 'bounced', '550 5.1.1 Recipient address is on the suppression list', 'Permanent', 'Suppressed'],
      ],
    );
    const events = await waitForEvents(gateway.dataDir, id, 5);
    assert.deepEqual(typesOf(events).sort(), ['Bounce', 'Bounce', 'Complaint', 'Delivery', 'Send']);
    const delivery = events.find((event) => event.type === 'Delivery')!.detail as { recipients: string[]; smtpResponse: string };
    assert.deepEqual(delivery.recipients, ['success@simulator.amazonses.com', 'ooto@simulator.amazonses.com', 'complaint@simulator.amazonses.com']);
    const complaint = events.find((event) => event.type === 'Complaint')!;
    assert.deepEqual({ ...complaint.detail, timestamp: 'T', arrivalDate: 'T' }, {
      complainedRecipients: [{ emailAddress: 'complaint@simulator.amazonses.com' }],
      timestamp: 'T',
      feedbackId: complaint.id,
      complaintSubType: null,
      userAgent: 'Amazon SES Mailbox Simulator',
      complaintFeedbackType: 'abuse',
      arrivalDate: 'T',
    });
    const bounces = events.filter((event) => event.type === 'Bounce').map((event) => event.detail as { bounceSubType: string; bouncedRecipients: Array<{ emailAddress: string }> });
    assert.deepEqual(bounces.map((bounce) => [bounce.bounceSubType, bounce.bouncedRecipients.map((recipient) => recipient.emailAddress)]).sort(), [
      ['General', ['bounce+label1@simulator.amazonses.com']],
      ['Suppressed', ['suppressionlist@simulator.amazonses.com']],
    ]);

    // The sender's mailbox: two bounce DSNs, a complaint report and ooto@'s automatic reply, all from the null sender.
    const received = await senderMailbox.waitForMessages(4, 20_000);
    assert.ok(received.every((message) => message.mailFrom === '' && message.rcptTo[0] === 'sender@example.com'));
    const texts = received.map((message) => message.raw.toString());
    assert.equal(texts.filter((text) => /^Content-Type: multipart\/report; report-type=delivery-status/m.test(text)).length, 2);
    assert.equal(texts.filter((text) => /^Content-Type: multipart\/report; report-type=feedback-report/m.test(text)).length, 1);
    const ooto = texts.find((text) => /^From: ooto@simulator\.amazonses\.com$/m.test(text));
    assert.ok(ooto, 'the automatic reply arrived');
    assert.match(ooto!, /^Auto-Submitted: auto-replied$/m);
    assert.match(ooto!, /^Subject: Out of the office$/m);
    assert.equal(recipients.messages.length, 0, 'nothing went to a real MX');

    const listed = await cliJson<{ SuppressedDestinationSummaries: unknown[] }>(gateway.dataDir, 'suppression', 'list', '--account', credential.accountId);
    assert.deepEqual(listed.SuppressedDestinationSummaries, [], 'simulator addresses never join the suppression list');
    const quota = await cliJson<{ SentLast24Hours: number }>(gateway.dataDir, 'quota', credential.accountId);
    assert.equal(quota.SentLast24Hours, 0, 'simulator recipients do not count toward the daily quota');
  });

  test('a hard bounce puts the address on the list; the next message to it is accepted, not sent, and bounces OnAccountSuppressionList', async () => {
    const first = await submit(gateway, credential, { mailFrom: 'sender@example.com', to: ['gone@remote.test'], subject: 'First' });
    await waitForFinal(gateway.dataDir, first);
    const deadline = Date.now() + 20_000;
    let entry: { SuppressedDestination: { EmailAddress: string; Reason: string; Attributes: { MessageId?: string; FeedbackId?: string } } } | null = null;
    while (!entry) {
      const result = await cli(gateway.dataDir, 'suppression', 'get', 'gone@remote.test', '--account', credential.accountId, '--json');
      if (result.code === 0) entry = JSON.parse(result.stdout);
      else if (Date.now() > deadline) throw new Error('the address was not suppressed');
      else await sleep(100);
    }
    const firstBounce = bounceOf(eventsOf(gateway.dataDir, first));
    assert.deepEqual(entry!.SuppressedDestination.Attributes, { MessageId: first, FeedbackId: eventsOf(gateway.dataDir, first).find((event) => event.type === 'Bounce')!.id });
    assert.equal(entry!.SuppressedDestination.Reason, 'BOUNCE');
    assert.equal(firstBounce.bounceType, 'Permanent');

    const connectionsBefore = recipients.messages.length;
    const second = await submit(gateway, credential, { mailFrom: 'sender@example.com', to: ['Gone@REMOTE.test', 'fine@remote.test'], subject: 'Second' });
    const details = await waitForFinal(gateway.dataDir, second);
    assert.deepEqual(details.deliveries.map((delivery) => [delivery.recipient, delivery.state, delivery.bounceSubType]), [
      ['Gone@remote.test', 'bounced', 'OnAccountSuppressionList'],
      ['fine@remote.test', 'delivered', null],
    ]);
    const events = await waitForEvents(gateway.dataDir, second, 3);
    assert.deepEqual(typesOf(events).sort(), ['Bounce', 'Delivery', 'Send']);
    assert.deepEqual(bounceOf(events), {
      ...bounceOf(events),
      bounceType: 'Permanent',
      bounceSubType: 'OnAccountSuppressionList',
      bouncedRecipients: [{ emailAddress: 'Gone@remote.test', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 Recipient address is on the account-level suppression list' }],
    });
    const arrived = recipients.messages.slice(connectionsBefore);
    assert.deepEqual(arrived.map((message) => message.rcptTo), [['fine@remote.test']], 'the suppressed address never reached the MX');

    await cli(gateway.dataDir, 'suppression', 'attributes', '--account', credential.accountId, '--suppressed-reasons', 'none');
    const third = await submit(gateway, credential, { mailFrom: 'sender@example.com', to: ['gone@remote.test'], subject: 'Third' });
    const turnedOff = await waitForFinal(gateway.dataDir, third);
    assert.equal(turnedOff.deliveries[0]!.bounceSubType, 'NoEmail', 'with the list turned off the MX is asked again (and refuses)');
  });
});
