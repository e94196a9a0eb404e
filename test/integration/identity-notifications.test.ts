import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cli, cliJson } from '../support/cli-runner.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { appendEvents, bounceEvent, complaintEvent, deliveryEvent, sendEvent, testMessage } from '../support/mail-events.js';
import { provisionCredential, verifiedIdentity } from '../support/provision.js';
import { SnsReceiver } from '../support/sns-receiver.js';
import { SqliteControlStore } from '../../src/store/sqlite/sqlite-control-store.js';

const OWNER = '111122223333';
const DELEGATE = '777788889999';
const EVENTS_CONFIG = { retry: { firstDelayMs: 100, maxDelayMs: 500 }, pollMs: 100 };

type Notification = Record<string, unknown> & { notificationType: string; mail: Record<string, unknown> };

describe('identity notifications', () => {
  const receiver = new SnsReceiver();
  let gateway: GatewayProcess;
  const owned = testMessage('10', OWNER);
  const delegated = testMessage('11', DELEGATE, { sourceArn: `arn:aws:ses:us-east-1:${OWNER}:identity/example.com` });
  const byAddress = testMessage('12', OWNER, { sourceArn: undefined, mailFrom: 'news@mail.example.com' });
  // Topics take events from the moment they are set: these happen after the set-up below.
  const later = Date.now() + 60_000;
  const events = {
    bounce: bounceEvent(owned, later),
    complaint: complaintEvent(owned, later),
    delivery: deliveryEvent(owned, later),
    delegatedBounce: bounceEvent(delegated, later),
    addressedDelivery: deliveryEvent(byAddress, later),
  };

  before(async () => {
    await receiver.start();
    const dataDir = tempDir();
    await provisionCredential(dataDir, { accountId: OWNER, verifiedIdentities: ['example.com', 'mail.example.com'] });
    await provisionCredential(dataDir, { accountId: DELEGATE, verifiedIdentities: [] });
    const store = SqliteControlStore.open(dataDir);
    // The delegate keeps its own topics for the owner's identity in an identity entry of that name.
    await store.identities.create({ ...verifiedIdentity(DELEGATE, 'example.com'), status: 'Pending' });
    await store.close();
    const update = (account: string, identity: string, ...args: string[]) => cliJson<Record<string, unknown>>(dataDir, 'identity', 'update', identity, '--account', account, ...args);
    const shown = await update(OWNER, 'example.com', '--notification', `Bounce=${receiver.url('/owner')}`, '--notification', `complaint=${receiver.url('/owner')}`, '--notification', `Delivery=${receiver.url('/deliveries')}`, '--notification-headers', 'Bounce=true');
    assert.equal(shown.BounceTopic, receiver.url('/owner'));
    assert.equal(shown.HeadersInBounceNotificationsEnabled, true);
    assert.equal(shown.HeadersInDeliveryNotificationsEnabled, false);
    await update(DELEGATE, 'example.com', '--notification', `Bounce=${receiver.url('/delegate')}`);
    await update(OWNER, 'mail.example.com', '--notification', `Delivery=${receiver.url('/subdomain')}`);
    gateway = await startGatewayProcess({ dataDir, config: { events: EVENTS_CONFIG } });
    // Notifications are only for Bounce, Complaint and Delivery: the Send goes nowhere.
    appendEvents(dataDir, [sendEvent(owned, later), bounceEvent(testMessage('13', OWNER)), ...Object.values(events)]);
  });
  after(async () => {
    await gateway.stop();
    await receiver.stop();
  });

  const at = (path: string) => receiver.received.filter((entry) => entry.path === path);

  test("bounce, complaint and delivery notifications go to the sending identity's topics in the guide's JSON, headers only where asked", async () => {
    await receiver.waitFor(() => at('/owner').length >= 3 && at('/deliveries').length >= 1 && at('/delegate').length >= 1 && at('/subdomain').length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(receiver.rejected, []);
    const owner = at('/owner').sort((a, b) => (a.message as Notification).notificationType.localeCompare((b.message as Notification).notificationType));
    assert.deepEqual(owner.map((entry) => (entry.message as Notification).notificationType), ['Bounce', 'Bounce', 'Complaint'], "its own bounce and complaint, the delegate's bounce; not the bounce of before the topic was set");
    const bounce = owner.find((entry) => entry.envelope.MessageId === events.bounce.id);
    const complaint = owner[2];
    assert.equal(bounce!.envelope.MessageId, events.bounce.id);
    assert.equal(bounce!.envelope.TopicArn, `arn:aws:sns:us-east-1:${OWNER}:ses-example_com-bounce`);
    assert.equal('Subject' in bounce!.envelope, false, 'SES identity notifications carry no Subject');
    assert.deepEqual(Object.keys(bounce!.message as Notification), ['notificationType', 'bounce', 'mail']);
    assert.deepEqual((bounce!.message as Notification).bounce, events.bounce.detail);
    assert.deepEqual((bounce!.message as Notification).mail, events.bounce.mail, 'Bounce includes the original headers');
    assert.equal(bounce!.envelope.Message, JSON.stringify({ notificationType: 'Bounce', bounce: events.bounce.detail, mail: events.bounce.mail }));

    assert.deepEqual(complaint!.message, {
      notificationType: 'Complaint',
      complaint: {
        complainedRecipients: [{ emailAddress: 'recipient@example.net' }],
        timestamp: new Date(later).toISOString(),
        feedbackId: `complaint-${owned.id}`,
        complaintSubType: null,
        userAgent: 'ExampleCorp Feedback Loop (V0.01)',
        complaintFeedbackType: 'abuse',
        arrivalDate: new Date(later - 500).toISOString(),
      },
      mail: {
        timestamp: '2026-11-23T10:00:00.123Z',
        messageId: owned.id,
        source: 'sender@example.com',
        sourceArn: `arn:aws:ses:us-east-1:${OWNER}:identity/example.com`,
        sourceIp: '192.0.2.10',
        callerIdentity: 'test-user',
        sendingAccountId: OWNER,
        destination: ['recipient@example.net'],
        tags: { 'ses:configuration-set': ['ConfigSet'], 'ses:from-domain': ['example.com'] },
      },
    });

    const [delivery] = at('/deliveries');
    assert.deepEqual(Object.keys(delivery!.message as Notification), ['notificationType', 'mail', 'delivery'], 'delivery: mail first, as in the guide');
    assert.equal('headers' in (delivery!.message as Notification).mail, false);
    assert.deepEqual((delivery!.message as Notification).delivery, events.delivery.detail);
    assert.equal(at('/deliveries').length, 1, 'the subdomain identity, more specific, takes its own message');
  });

  test('under sending authorization both the owner and the delegate are notified; without a source ARN the most specific identity of the sender is', async () => {
    const delegateBounce = at('/delegate');
    assert.equal(delegateBounce.length, 1);
    assert.equal(delegateBounce[0]!.envelope.TopicArn, `arn:aws:sns:us-east-1:${DELEGATE}:ses-example_com-bounce`);
    assert.equal((delegateBounce[0]!.message as Notification).mail.sendingAccountId, DELEGATE);
    const ownerCopy = at('/owner').filter((entry) => entry.envelope.MessageId === events.delegatedBounce.id);
    assert.equal(ownerCopy.length, 1, "the owner's Bounce topic gets the delegate's bounce too");
    const subdomain = at('/subdomain');
    assert.deepEqual(
      subdomain.map((entry) => entry.envelope.MessageId),
      [events.addressedDelivery.id],
    );
  });

  test('identity update rejects a bad topic and headers without a topic, in one line', async () => {
    const bad = await cli(gateway.dataDir, 'identity', 'update', 'example.com', '--account', OWNER, '--notification', 'Bounce=ftp://example.com/x');
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'relaygate: event target ftp://example.com/x: unsupported scheme "ftp:" (use https://…, http://…, file:/path, amqp://… or redis://…)\n');
    const headers = await cli(gateway.dataDir, 'identity', 'update', 'mail.example.com', '--account', OWNER, '--notification-headers', 'Bounce=true');
    assert.equal(headers.code, 1);
    assert.equal(headers.stderr, 'relaygate: --notification-headers Bounce: set a Bounce topic first (--notification Bounce=URL)\n');
  });
});

describe('the certificate over HTTPS', () => {
  test("an SNS subscriber's own validator (sns-validator) accepts the notifications with only its trusted host changed", async () => {
    const require = createRequire(import.meta.url);
    const MessageValidator = require('sns-validator') as new (hostPattern: RegExp) => { validate(message: Record<string, string>, callback: (error: Error | null) => void): void };
    const validator = new MessageValidator(/^127\.0\.0\.1:\d+$/);
    const dataDir = tempDir();
    await provisionCredential(dataDir, { accountId: OWNER });
    const receiver = new SnsReceiver((envelope) => new Promise<void>((resolve, reject) => validator.validate(envelope, (error) => (error ? reject(error) : resolve()))));
    await receiver.start();
    await cliJson(dataDir, 'configset', 'update', 'ConfigSet', '--account', OWNER, '--event-destination', `hooks:SEND:${receiver.url('/hooks')}`);
    const gateway = await startGatewayProcess({ dataDir, config: { events: { ...EVENTS_CONFIG, httpTls: true } } });
    // The gateway's self-signed certificates (the ECDSA one is presented to this client) are the ones this subscriber trusts.
    const previousCa = https.globalAgent.options.ca;
    https.globalAgent.options.ca = ['self-signed-ecdsa.crt', 'self-signed.crt'].map((name) => readFileSync(join(dataDir, 'tls', name)));
    try {
      const send = sendEvent(testMessage('20', OWNER), Date.now());
      appendEvents(dataDir, [send]);
      await receiver.waitFor((received) => received.length >= 1);
      assert.deepEqual(receiver.rejected, []);
      assert.equal(receiver.received[0]!.envelope.MessageId, send.id);
      assert.match(receiver.received[0]!.envelope.SigningCertURL!, /^https:\/\/127\.0\.0\.1:\d+\/SimpleNotificationService-[0-9a-f]{32}\.pem$/);
    } finally {
      https.globalAgent.options.ca = previousCa;
      await gateway.stop();
      await receiver.stop();
    }
  });
});
