import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EventDestination } from '../../src/store/configuration-sets.js';
import { SqliteControlStore } from '../../src/store/sqlite/sqlite-control-store.js';
import { cli, cliJson } from '../support/cli-runner.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { appendEvents, bounceEvent, deliveryEvent, delayEvent, sendEvent, T0, testMessage } from '../support/mail-events.js';
import { provisionCredential } from '../support/provision.js';
import { SnsReceiver } from '../support/sns-receiver.js';

const ACCOUNT = '111122223333';
const OTHER_ACCOUNT = '444455556666';
/** Short retries, and a quick look for events appended by the test process. */
const EVENTS_CONFIG = { retry: { firstDelayMs: 100, maxDelayMs: 500 }, pollMs: 100 };

async function dataDirWithDestinations(sets: Record<string, EventDestination[]>): Promise<string> {
  const dataDir = tempDir();
  await provisionCredential(dataDir, { accountId: ACCOUNT, configurationSets: Object.keys(sets) });
  const store = SqliteControlStore.open(dataDir);
  try {
    for (const [name, eventDestinations] of Object.entries(sets)) await store.configurationSets.update(ACCOUNT, name, { eventDestinations });
  } finally {
    await store.close();
  }
  return dataDir;
}

const destination = (name: string, eventTypes: string[], target: string, more: Partial<EventDestination> = {}): EventDestination => ({
  name,
  enabled: true,
  eventTypes,
  target,
  createdAt: 0,
  ...more,
});

describe('webhook event destinations', () => {
  const receiver = new SnsReceiver();
  let gateway: GatewayProcess;
  const m1 = testMessage('1', ACCOUNT);
  const m2 = testMessage('2', ACCOUNT, { configurationSet: 'Other', tags: { 'ses:configuration-set': ['Other'] } });
  const m3 = testMessage('3', ACCOUNT);
  const foreign = testMessage('4', OTHER_ACCOUNT);
  const [send1, delivery1, delay3] = [sendEvent(m1), deliveryEvent(m1), delayEvent(m3)];

  before(async () => {
    await receiver.start();
    const dataDir = await dataDirWithDestinations({
      ConfigSet: [
        destination('hooks', ['SEND', 'DELIVERY', 'DELIVERY_DELAY'], receiver.url('/hooks')),
        destination('paused', ['SEND'], receiver.url('/paused'), { enabled: false }),
      ],
      Other: [destination('bounces', ['BOUNCE'], receiver.url('/bounces'), { includeOriginalHeaders: false })],
    });
    gateway = await startGatewayProcess({ dataDir, config: { events: EVENTS_CONFIG } });
    appendEvents(dataDir, [send1, sendEvent(m2), sendEvent(foreign), delivery1, bounceEvent(m1), bounceEvent(m2), delay3]);
  });
  after(async () => {
    await gateway.stop();
    await receiver.stop();
  });

  test('a destination gets exactly its configuration set’s events of its types, as SES records in signed SNS envelopes', async () => {
    await receiver.waitFor((received) => received.filter((entry) => entry.path === '/hooks').length >= 3 && received.some((entry) => entry.path === '/bounces'));
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(receiver.rejected, [], 'every signature verifies');
    // Records of different messages travel in parallel: only each message's own order is fixed.
    const hooks = receiver.received.filter((entry) => entry.path === '/hooks').sort((a, b) => (a.message as { mail: { messageId: string } }).mail.messageId.localeCompare((b.message as { mail: { messageId: string } }).mail.messageId));
    assert.deepEqual(
      hooks.map((entry) => [(entry.message as { eventType: string }).eventType, (entry.message as { mail: { messageId: string } }).mail.messageId]),
      [
        ['Send', m1.id],
        ['Delivery', m1.id],
        ['DeliveryDelay', m3.id],
      ],
      'in order for m1; not the bounce (type filter), not the Other set, not another account with a set of the same name',
    );
    const [send, delivery, delay] = hooks;
    assert.deepEqual(Object.keys(send!.envelope), ['Type', 'MessageId', 'TopicArn', 'Subject', 'Message', 'Timestamp', 'SignatureVersion', 'Signature', 'SigningCertURL', 'UnsubscribeURL']);
    const signingCertUrl = send!.envelope.SigningCertURL!;
    assert.match(signingCertUrl, /^http:\/\/127\.0\.0\.1:\d+\/SimpleNotificationService-[0-9a-f]{32}\.pem$/);
    const topicArn = `arn:aws:sns:us-east-1:${ACCOUNT}:hooks`;
    const subscriptionArn = send!.headers['x-amz-sns-subscription-arn'] as string;
    assert.match(subscriptionArn, new RegExp(`^${topicArn}:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`));
    assert.deepEqual(
      { ...send!.envelope, Signature: '(verified)' },
      {
        Type: 'Notification',
        MessageId: send1.id,
        TopicArn: topicArn,
        Subject: 'Amazon SES Email Event Notification',
        Message: send!.envelope.Message,
        Timestamp: new Date(T0).toISOString(),
        SignatureVersion: '2',
        Signature: '(verified)',
        SigningCertURL: signingCertUrl,
        UnsubscribeURL: `${signingCertUrl.replace(/SimpleNotificationService-.*$/, '')}?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`,
      },
    );
    assert.equal(send!.headers['x-amz-sns-message-type'], 'Notification');
    assert.equal(send!.headers['x-amz-sns-message-id'], send!.envelope.MessageId);
    assert.equal(send!.headers['x-amz-sns-topic-arn'], topicArn);
    assert.equal(send!.headers['content-type'], 'text/plain; charset=UTF-8');
    assert.equal(send!.headers['user-agent'], 'Amazon Simple Notification Service Agent');

    const mailWithHeaders = {
      timestamp: '2026-11-23T10:00:00.123Z',
      messageId: m1.id,
      source: 'sender@example.com',
      sourceArn: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`,
      sourceIp: '192.0.2.10',
      callerIdentity: 'test-user',
      sendingAccountId: ACCOUNT,
      destination: ['recipient@example.net'],
      tags: { 'ses:configuration-set': ['ConfigSet'], 'ses:from-domain': ['example.com'] },
      headersTruncated: false,
      headers: [
        { name: 'From', value: 'Sender <sender@example.com>' },
        { name: 'To', value: 'recipient@example.net' },
        { name: 'Subject', value: 'Message 1' },
      ],
      commonHeaders: { from: ['Sender <sender@example.com>'], to: ['recipient@example.net'], subject: 'Message 1' },
    };
    assert.equal(send!.envelope.Message, JSON.stringify({ eventType: 'Send', mail: mailWithHeaders, send: {} }), 'the record, byte for byte');
    assert.deepEqual(delivery!.message, {
      eventType: 'Delivery',
      mail: mailWithHeaders,
      delivery: {
        timestamp: '2026-11-23T10:00:01.123Z',
        processingTimeMillis: 1000,
        recipients: ['recipient@example.net'],
        smtpResponse: '250 2.0.0 Ok: queued as 4Bx',
        reportingMTA: 'relay.example.com',
        remoteMtaIp: '127.0.0.2',
      },
    });
    const delayRecord = delay!.message as Record<string, unknown>;
    assert.deepEqual(Object.keys(delayRecord), ['eventType', 'mail', 'deliveryDelay'], 'deliveryDelay at the top level');
    assert.deepEqual(delayRecord.deliveryDelay, {
      timestamp: '2026-11-23T10:00:04.123Z',
      delayType: 'TransientCommunicationFailure',
      expirationTime: '2026-11-28T10:00:00.123Z',
      delayedRecipients: [{ emailAddress: 'recipient@example.net', status: '4.4.1', diagnosticCode: 'smtp; 421 4.4.1 Unable to connect to remote host' }],
    });
    assert.deepEqual(
      hooks.map((entry) => entry.envelope.MessageId),
      [send1.id, delivery1.id, delay3.id],
      'each record carries its event id',
    );
  });

  test('a destination without original headers gets the mail object without headers, headersTruncated and commonHeaders; a disabled one gets nothing', async () => {
    const bounces = receiver.received.filter((entry) => entry.path === '/bounces');
    assert.equal(bounces.length, 1);
    assert.deepEqual(bounces[0]!.message, {
      eventType: 'Bounce',
      mail: {
        timestamp: '2026-11-23T10:00:00.123Z',
        messageId: m2.id,
        source: 'sender@example.com',
        sourceArn: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`,
        sourceIp: '192.0.2.10',
        callerIdentity: 'test-user',
        sendingAccountId: ACCOUNT,
        destination: ['recipient@example.net'],
        tags: { 'ses:configuration-set': ['Other'] },
      },
      bounce: {
        bounceType: 'Permanent',
        bounceSubType: 'General',
        bouncedRecipients: [{ emailAddress: 'recipient@example.net', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' }],
        timestamp: '2026-11-23T10:00:02.123Z',
        feedbackId: `feedback-${m2.id}`,
        reportingMTA: 'dsn; relay.example.com',
        remoteMtaIp: '127.0.0.2',
      },
    });
    assert.equal(bounces[0]!.envelope.MessageId, `feedback-${m2.id}`, 'a bounce is identified by its feedbackId');
    assert.equal(bounces[0]!.envelope.TopicArn, `arn:aws:sns:us-east-1:${ACCOUNT}:bounces`);
    assert.equal(receiver.received.filter((entry) => entry.path === '/paused').length, 0);
    const status = await cliJson<Array<{ Consumer: string; Backlog: number }>>(gateway.dataDir, 'events', 'status');
    assert.deepEqual(
      status.filter((entry) => entry.Consumer.startsWith('destination:')).map((entry) => [entry.Consumer, entry.Backlog]),
      [
        [`destination:${ACCOUNT}:ConfigSet:hooks`, 0],
        [`destination:${ACCOUNT}:ConfigSet:paused`, 0],
        [`destination:${ACCOUNT}:Other:bounces`, 0],
      ],
    );
  });
});

describe('a webhook that is down, with the gateway killed meanwhile', () => {
  test('receives every record once it is back, in order per message, each with its id', async () => {
    // A port nothing listens on until the webhook "comes back".
    const probe = await new SnsReceiver().start();
    const port = probe.port;
    await probe.stop();
    const target = `http://127.0.0.1:${port}/events`;
    const dataDir = await dataDirWithDestinations({ ConfigSet: [destination('hooks', ['SEND', 'DELIVERY', 'BOUNCE'], target)] });
    const messages = Array.from({ length: 10 }, (_, index) => testMessage(String(100 + index), ACCOUNT));
    const beforeKill = messages.flatMap((message) => [sendEvent(message), deliveryEvent(message)]);
    const afterKill = messages.map((message) => bounceEvent(message));
    let gateway = await startGatewayProcess({ dataDir, config: { events: EVENTS_CONFIG } });
    const receiver = new SnsReceiver();
    try {
      appendEvents(dataDir, beforeKill);
      await gateway.waitForLog('event destination failed; retrying the same records later');
      await gateway.kill();
      appendEvents(dataDir, afterKill);
      gateway = await startGatewayProcess({ dataDir, config: { events: EVENTS_CONFIG } });
      await gateway.waitForLog('event destination failed; retrying the same records later');
      await receiver.start(port);
      receiver.failWith = 503;
      await new Promise((resolve) => setTimeout(resolve, 700));
      receiver.failWith = null;
      const expected = [...beforeKill, ...afterKill];
      await receiver.waitFor((received) => new Set(received.map((entry) => entry.envelope.MessageId)).size >= expected.length);
      assert.deepEqual(receiver.rejected, []);
      const ids = receiver.received.map((entry) => entry.envelope.MessageId!);
      assert.deepEqual(new Set(ids), new Set(expected.map((event) => event.id)), 'every record arrived, nothing else');
      for (const message of messages) {
        const arrived = receiver.received
          .filter((entry) => (entry.message as { mail: { messageId: string } }).mail.messageId === message.id)
          .map((entry) => (entry.message as { eventType: string }).eventType);
        const firsts = arrived.filter((type, index) => arrived.indexOf(type) === index);
        assert.deepEqual(firsts, ['Send', 'Delivery', 'Bounce'], `order of ${message.id}`);
      }
      await gateway.waitForLog('event destination is taking records again');
    } finally {
      await gateway.stop();
      await receiver.stop();
    }
  });
});

describe('JSON-lines file destination', () => {
  test('writes one SES record per line and rotates by size, keeping the configured number of files', async () => {
    const directory = tempDir();
    const path = join(directory, 'events.jsonl');
    const dataDir = await dataDirWithDestinations({ ConfigSet: [destination('log', ['SEND', 'DELIVERY'], `file:${path}`, { includeOriginalHeaders: false })] });
    const gateway = await startGatewayProcess({ dataDir, config: { events: { ...EVENTS_CONFIG, file: { maxBytes: 1024, keep: 2 } } } });
    try {
      const messages = Array.from({ length: 6 }, (_, index) => testMessage(String(200 + index), ACCOUNT));
      const events = messages.flatMap((message) => [sendEvent(message), deliveryEvent(message)]);
      appendEvents(dataDir, events);
      const expectedLines = events.map((event) =>
        JSON.stringify({ eventType: event.type, mail: { ...event.mail, headersTruncated: undefined, headers: undefined, commonHeaders: undefined }, [event.type === 'Send' ? 'send' : 'delivery']: event.detail }),
      );
      // The documented rule: a line that would take the file past maxBytes starts a new file.
      const written: string[][] = [[]];
      let size = 0;
      for (const line of expectedLines) {
        const bytes = Buffer.byteLength(line) + 1;
        if (size > 0 && size + bytes > 1024) {
          written.push([]);
          size = 0;
        }
        written[written.length - 1]!.push(line);
        size += bytes;
      }
      assert.ok(written.length >= 4, 'fixture: more files than are kept');
      const expectedFiles = written.slice(-3).map((lines) => lines.map((line) => `${line}\n`).join(''));
      const deadline = Date.now() + 15_000;
      const read = (suffix: string) => {
        try {
          return readFileSync(path + suffix, 'utf8');
        } catch {
          return '';
        }
      };
      while (read('') !== expectedFiles[2]) {
        if (Date.now() > deadline) throw new Error(`files: ${read('')} | ${read('.1')} | ${read('.2')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const files = ['.2', '.1', ''].map(read);
      assert.deepEqual(files, expectedFiles, 'the newest lines, in order, in the current file and two rotated ones');
      assert.ok(files.every((content) => Buffer.byteLength(content) <= 1024));
      assert.equal(read('.3'), '', 'older files are removed');
    } finally {
      await gateway.stop();
    }
  });
});

describe('configset event destination options', () => {
  test('--event-destination-headers and --event-destination-enabled change one destination; re-giving a destination keeps its start', async () => {
    const dataDir = tempDir();
    await provisionCredential(dataDir, { accountId: ACCOUNT });
    const update = (...args: string[]) => cliJson<{ EventDestinations: Array<Record<string, unknown>> }>(dataDir, 'configset', 'update', 'ConfigSet', '--account', ACCOUNT, ...args);
    const created = await update('--event-destination', 'hooks:SEND,DELIVERY:https://hooks.example.com/ses?batchSize=50', '--event-destination', 'log:BOUNCE:file:/var/log/ses.jsonl', '--event-destination-headers', 'log=false');
    assert.deepEqual(created.EventDestinations, [
      { Name: 'hooks', Enabled: true, MatchingEventTypes: ['SEND', 'DELIVERY'], Target: 'https://hooks.example.com/ses?batchSize=50', IncludeOriginalHeaders: true },
      { Name: 'log', Enabled: true, MatchingEventTypes: ['BOUNCE'], Target: 'file:/var/log/ses.jsonl', IncludeOriginalHeaders: false },
    ]);
    const store = SqliteControlStore.open(dataDir);
    const startedAt = (await store.configurationSets.get(ACCOUNT, 'ConfigSet'))!.eventDestinations.map((entry) => entry.createdAt);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const disabled = await update('--event-destination-enabled', 'hooks=false');
    assert.deepEqual(disabled.EventDestinations.map((entry) => [entry.Name, entry.Enabled, entry.IncludeOriginalHeaders]), [['hooks', false, true], ['log', true, false]]);
    await update('--event-destination', 'hooks:SEND:https://hooks.example.com/other');
    const after = (await store.configurationSets.get(ACCOUNT, 'ConfigSet'))!.eventDestinations;
    await store.close();
    assert.equal(after.length, 1);
    assert.equal(after[0]!.createdAt, startedAt[0], 'the same destination, its cursor going on');
    const bad = await cli(dataDir, 'configset', 'update', 'ConfigSet', '--account', ACCOUNT, '--event-destination', 'hooks:SEND:https://x.example/?batchSize=0');
    assert.equal(bad.stderr, 'relaygate: event target https://x.example/?batchSize=0: batchSize must be a whole number from 1 to 1000\n');
    const unknown = await cli(dataDir, 'configset', 'update', 'ConfigSet', '--account', ACCOUNT, '--event-destination-enabled', 'nope=true');
    assert.equal(unknown.stderr, 'relaygate: --event-destination-enabled: the configuration set has no event destination nope\n');
  });
});
