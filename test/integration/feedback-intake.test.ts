import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseReturnPath } from '../../src/delivery/return-path.js';
import { mailObject } from '../../src/events/event-builders.js';
import type { StoredMailEvent } from '../../src/events/mail-event.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { SqliteControlStore } from '../../src/store/sqlite/sqlite-control-store.js';
import { startSinks, submit, testDeliveryConfig, waitForFinal, queueDetails } from '../support/delivery-fixture.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { run, toolAvailable } from '../support/external-tools.js';
import { arfText, autoReplyText, dsnText } from '../support/feedback-messages.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import type { SinkMx } from '../support/sink-mx.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const FEEDBACK_DOMAIN = 'feedback.test';
const CUSTOM_MAIL_FROM = 'bounces.example.com';
const RELAY_DENIED = '554 Message rejected: relay access denied';
const NO_SUCH_ADDRESS = '550 Message rejected: no such feedback address';

/** Every event of the gateway's log so far (a fresh reader each time). */
function logEvents(dataDir: string): StoredMailEvent[] {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return queue.events.read(`test-${Math.random()}`, 10_000);
  } finally {
    queue.close();
  }
}

describe('feedback intake on an intake listener', () => {
  let dns: TestDnsServer;
  let sink: SinkMx;
  let gateway: GatewayProcess;
  let credential: TestCredential;
  let messageId: string;
  let alphaReturnPath: string;
  let betaReturnPath: string;
  let intakePort: number;
  const files = tempDir('relaygate-feedback-');

  /** Sends a file as DATA with swaks (null sender), returning swaks's transcript. */
  async function swaks(to: string, text: string, extra: string[] = []): Promise<string> {
    const path = join(files, `${Math.random()}.eml`);
    writeFileSync(path, text);
    const result = await run('swaks', ['--server', `127.0.0.1:${intakePort}`, '--helo', 'mx.alpha.test', '--from', '<>', '--to', to, '--data', `@${path}`, ...extra]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    return result.stdout;
  }
  /** The reply to the end of DATA in a swaks transcript (the one before QUIT's 221). */
  const finalReply = (transcript: string) => transcript.split(/\r?\n/).flatMap((line) => /^<[-~] +(\d{3} .*)$/.exec(line)?.[1] ?? []).at(-2);

  before(async () => {
    [sink] = (await startSinks([{ host: '127.0.0.2', tlsNames: ['mx.alpha.test', 'mx.beta.test'] }])) as [SinkMx];
    dns = await startDnsServer({
      'alpha.test': { MX: [{ exchange: 'mx.alpha.test', priority: 10 }] },
      'mx.alpha.test': { A: ['127.0.0.2'] },
      'beta.test': { MX: [{ exchange: 'mx.beta.test', priority: 10 }] },
      'mx.beta.test': { A: ['127.0.0.2'] },
    });
    gateway = await startGatewayProcess({
      listen: ['127.0.0.1:0=starttls', '127.0.0.1:0=tls', '127.0.0.1:0=starttls+intake'],
      config: { smtp: { hostname: 'relaygate.test', maxMessageBytes: 100_000 }, ...testDeliveryConfig(dns, sink.port, { feedbackDomain: FEEDBACK_DOMAIN }) },
    });
    intakePort = gateway.intakePorts[0]!;
    credential = await provisionCredential(gateway.dataDir);
    // A custom MAIL FROM domain without MX: mail still leaves with the feedback domain (UseDefaultValue), and the
    // custom domain's return paths are taken as well.
    const store = SqliteControlStore.open(gateway.dataDir);
    await store.identities.update(credential.accountId, 'example.com', { mailFrom: { domain: CUSTOM_MAIL_FROM, behaviorOnMxFailure: 'UseDefaultValue', status: 'Success', pendingSince: null } });
    await store.close();
    messageId = await submit(gateway, credential, { to: ['jane@alpha.test', 'john@alpha.test', 'mary@beta.test'], extraHeaders: ['X-SES-CONFIGURATION-SET: ConfigSet'] });
    await waitForFinal(gateway.dataDir, messageId);
    const received = await sink.waitForMessages(2);
    alphaReturnPath = received.find((message) => message.rcptTo.includes('jane@alpha.test'))!.mailFrom;
    betaReturnPath = received.find((message) => message.rcptTo.includes('mary@beta.test'))!.mailFrom;
    assert.equal(parseReturnPath(alphaReturnPath)?.domain, FEEDBACK_DOMAIN);
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([sink.close(), dns.close()]);
  });

  test('a DSN sent by swaks (no TLS) becomes the exact Bounce event, and the delivered row notes it', { skip: !toolAvailable('swaks') }, async () => {
    const transcript = await swaks(
      alphaReturnPath,
      dsnText({
        returnPath: alphaReturnPath,
        messageId: '<dsn-42@mx.alpha.test>',
        recipients: [{ final: 'john@alpha.test', original: 'john@alpha.test', action: 'failed', status: '5.1.1', remoteMta: 'dns; [127.0.0.2]', diagnostic: 'smtp; 550 5.1.1 <john@alpha.test>: Recipient address rejected:\r\n    User unknown in virtual mailbox table' }],
      }),
    );
    assert.equal(finalReply(transcript), '250 Ok: bounce recorded', transcript);
    const bounces = logEvents(gateway.dataDir).filter((event) => event.type === 'Bounce');
    assert.equal(bounces.length, 1);
    const [bounce] = bounces as [StoredMailEvent];
    const details = queueDetails(gateway.dataDir, messageId)!;
    assert.deepEqual(
      { id: bounce.id, type: bounce.type, messageId: bounce.messageId, accountId: bounce.accountId, configurationSet: bounce.configurationSet, detail: bounce.detail },
      {
        id: bounce.id,
        type: 'Bounce',
        messageId,
        accountId: credential.accountId,
        configurationSet: 'ConfigSet',
        detail: {
          bounceType: 'Permanent',
          bounceSubType: 'NoEmail',
          bouncedRecipients: [{ emailAddress: 'john@alpha.test', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 <john@alpha.test>: Recipient address rejected: User unknown in virtual mailbox table' }],
          timestamp: '2025-12-02T10:00:00.000Z',
          feedbackId: bounce.id,
          remoteMtaIp: '127.0.0.2',
          reportingMTA: 'dns; mx.alpha.test',
        },
      },
    );
    const { timestamp, source, sourceIp, sendingAccountId, destination, tags } = bounce.mail;
    assert.deepEqual(
      { timestamp, messageId: bounce.mail.messageId, source, sourceIp, sendingAccountId, destination, tags },
      {
        timestamp: details.receivedAt.toISOString(),
        messageId,
        source: 'sender@example.com',
        sourceIp: '127.0.0.1',
        sendingAccountId: credential.accountId,
        destination: ['jane@alpha.test', 'john@alpha.test', 'mary@beta.test'],
        tags: { 'ses:configuration-set': ['ConfigSet'], 'ses:source-ip': ['127.0.0.1'], 'ses:from-domain': ['example.com'], 'ses:caller-identity': ['test-user'] },
      },
    );
    const queue = SqliteQueueStore.open(gateway.dataDir);
    try {
      assert.deepEqual(bounce.mail, mailObject(queue.feedback.message(messageId)!), 'the mail object is the message\'s, whatever acceptance kept');
    } finally {
      queue.close();
    }
    const john = details.deliveries.find((delivery) => delivery.recipient === 'john@alpha.test')!;
    assert.deepEqual([john.state, john.bounceType, john.bounceSubType, john.category], ['delivered', 'Permanent', 'NoEmail', 'recipient'], 'a late bounce leaves the delivery delivered and says what came back');
    const recorded = await gateway.waitForLog('feedback recorded');
    assert.deepEqual([recorded.outcome, recorded.messageIds, recorded.events], ['bounce', [messageId], [bounce.id]]);
  });

  test('an ARF report sent by swaks over STARTTLS becomes the exact Complaint event', { skip: !toolAvailable('swaks') }, async () => {
    const transcript = await swaks(
      betaReturnPath,
      arfText({
        returnPath: betaReturnPath,
        messageId: '<arf-7@isp.test>',
        userAgent: 'AnyCompany Feedback Loop (v0.01)',
        arrivalDate: 'Wed, 27 Jan 2016 14:59:38 +0000',
        originalHeaders: ['From: Sender <sender@example.com>', 'To: mary@beta.test', 'Subject: relaygate test', `Message-ID: <${messageId}@relaygate.test>`],
      }),
      ['--tls'],
    );
    assert.equal(finalReply(transcript), '250 Ok: complaint recorded', transcript);
    assert.match(transcript, /^<~  250 Ok: complaint recorded$/m, 'the report went over TLS');
    const complaints = logEvents(gateway.dataDir).filter((event) => event.type === 'Complaint');
    assert.equal(complaints.length, 1);
    const [complaint] = complaints as [StoredMailEvent];
    assert.deepEqual([complaint.messageId, complaint.accountId, complaint.configurationSet, complaint.mail.messageId], [messageId, credential.accountId, 'ConfigSet', messageId]);
    assert.deepEqual(complaint.detail, {
      complainedRecipients: [{ emailAddress: 'mary@beta.test' }],
      timestamp: '2025-12-03T08:00:00.000Z',
      feedbackId: complaint.id,
      complaintSubType: null,
      userAgent: 'AnyCompany Feedback Loop (v0.01)',
      complaintFeedbackType: 'abuse',
      arrivalDate: '2016-01-27T14:59:38.000Z',
    });
  });

  test('never an open relay: the usual tricks are refused with exact replies, before and after STARTTLS', async () => {
    const [local] = alphaReturnPath.split('@') as [string];
    const [, node, , tag] = local.split('-') as [string, string, string, string];
    const sunk = sink.messages.length;
    const cases: Array<[string, string]> = [
      ['RCPT TO:<user@example.org>', RELAY_DENIED],
      [`RCPT TO:<user%other.example@${FEEDBACK_DOMAIN}>`, NO_SUCH_ADDRESS],
      [`RCPT TO:<USER%OTHER.EXAMPLE@${FEEDBACK_DOMAIN.toUpperCase()}>`, NO_SUCH_ADDRESS],
      ['RCPT TO:<@a.example,@b.example:user@other.example>', RELAY_DENIED],
      [`RCPT TO:<@other.example:${alphaReturnPath}>`, RELAY_DENIED],
      [`RCPT TO:<@OTHER.EXAMPLE:USER@${FEEDBACK_DOMAIN.toUpperCase()}>`, RELAY_DENIED],
      [`RCPT TO:<"${local}"@${FEEDBACK_DOMAIN}>`, NO_SUCH_ADDRESS],
      [`RCPT TO:<"user@other.example"@${FEEDBACK_DOMAIN}>`, '501 Error: Bad recipient address syntax'],
      [`RCPT TO:<${local}@other.example>`, RELAY_DENIED],
      [`RCPT TO:<${local.toUpperCase()}@OTHER.EXAMPLE>`, RELAY_DENIED],
      [`RCPT TO:<${local}@sub.${FEEDBACK_DOMAIN}>`, RELAY_DENIED],
      [`RCPT TO:<${local}@[127.0.0.1]>`, RELAY_DENIED],
      [`RCPT TO:<postmaster@${FEEDBACK_DOMAIN}>`, NO_SUCH_ADDRESS],
      ['RCPT TO:<postmaster>', RELAY_DENIED],
      [`RCPT TO:<b-${node}-zzzzzzz-${tag}@${FEEDBACK_DOMAIN}>`, NO_SUCH_ADDRESS],
      [`RCPT TO:<b-zzzzzzz-${tag}@${FEEDBACK_DOMAIN}>`, NO_SUCH_ADDRESS],
      [`RCPT TO:<${local.slice(0, -1)}${local.endsWith('0') ? '1' : '0'}@${FEEDBACK_DOMAIN}>`, NO_SUCH_ADDRESS],
      [`RCPT TO:<${alphaReturnPath.toUpperCase()}>`, '250 Ok'],
      [`RCPT TO:<${local}@${CUSTOM_MAIL_FROM}>`, '250 Ok'],
    ];
    for (const secure of [false, true]) {
      const dialog = await SmtpDialog.open({ port: intakePort });
      try {
        await dialog.reply();
        await dialog.ehlo('mx.other.example');
        if (secure) {
          assert.equal(await dialog.startTls(), '220 Ready to start TLS');
          await dialog.ehlo('mx.other.example');
        }
        assert.equal(await dialog.command('MAIL FROM:<>'), '250 Ok', 'bounces come from the null sender, with or without TLS');
        for (const [command, reply] of cases) assert.equal(await dialog.command(command), reply, command);
        assert.equal(await dialog.command('RSET'), '250 Flushed');
        assert.equal(await dialog.command('MAIL FROM:<spammer@other.example>'), '250 Ok');
        assert.equal(await dialog.command('RCPT TO:<victim@example.org>'), RELAY_DENIED);
        assert.equal(await dialog.command('DATA'), '503 Error: need RCPT command', 'nothing to send');
      } finally {
        dialog.close();
      }
    }
    assert.equal(sink.messages.length, sunk, 'nothing was relayed');
    // The log lines come through the gateway's stdout, which may lag behind its replies. Each session worker counts its
    // own refusals (its log lines carry its `worker` id): the node's count is the sum of each worker's last.
    const counts = () => {
      const refusals = gateway.logs.filter((record) => record.msg === 'feedback recipient refused');
      return ['relay', 'not-issued', 'unknown-delivery', 'forged'].map((refusal) => {
        const lastByWorker = new Map(refusals.filter((record) => record.refusal === refusal).map((record) => [record.worker, record.count as number]));
        return [...lastByWorker.values()].reduce((sum, count) => sum + count, 0);
      });
    };
    for (const deadline = Date.now() + 5000; counts()[0] !== 20 && Date.now() < deadline; ) await sleep(20);
    assert.deepEqual(counts(), [20, 8, 4, 2], 'every refusal counted by reason');
  });

  test('feedback larger than smtp.maxMessageBytes is refused with SES\'s text, and the session goes on', async () => {
    const dialog = await SmtpDialog.open({ port: intakePort });
    try {
      await dialog.reply();
      await dialog.ehlo('mx.alpha.test');
      assert.equal(await dialog.command('MAIL FROM:<>'), '250 Ok');
      assert.equal(await dialog.command(`RCPT TO:<${alphaReturnPath}>`), '250 Ok');
      assert.equal(await dialog.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
      dialog.write(`Subject: big\r\n\r\n${'x'.repeat(998)}\r\n`.repeat(110) + '.\r\n');
      assert.equal(await dialog.line(), '552 Message is too long.');
      assert.equal(await dialog.command('RSET'), '250 Flushed');
    } finally {
      dialog.close();
    }
  });

  test('the intake listener still serves authenticated submission; AUTH needs STARTTLS there as everywhere', async () => {
    const dialog = await SmtpDialog.open({ port: intakePort });
    try {
      await dialog.reply();
      const ehlo = await dialog.ehlo();
      assert.ok(!ehlo.some((line) => line.includes('AUTH')), 'no AUTH offered before STARTTLS');
      assert.equal(await dialog.authPlain(credential.user, credential.password), '530 Must issue a STARTTLS command first');
      await dialog.startTls();
      await dialog.ehlo();
      assert.equal(await dialog.authPlain(credential.user, credential.password), '235 Authentication successful');
      assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
      assert.equal(await dialog.command('RCPT TO:<friend@alpha.test>'), '250 Ok', 'authenticated mail goes anywhere, as on any listener');
      assert.equal(await dialog.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
      dialog.write('From: Sender <sender@example.com>\r\nTo: friend@alpha.test\r\nSubject: hi\r\n\r\nhello\r\n.\r\n');
      assert.match(await dialog.line(), /^250 Ok [0-9a-f]{16}-/);
    } finally {
      dialog.close();
    }
  });

  test('an automatic reply is noted and is no bounce; garbage is kept as a dead letter (0600)', { skip: !toolAvailable('swaks') }, async () => {
    const bouncesBefore = logEvents(gateway.dataDir).filter((event) => event.type === 'Bounce').length;
    assert.equal(finalReply(await swaks(alphaReturnPath, autoReplyText(alphaReturnPath))), '250 Ok: automatic reply noted, not a bounce');
    assert.equal(logEvents(gateway.dataDir).filter((event) => event.type === 'Bounce').length, bouncesBefore);
    const garbage = 'Subject: your mail\r\n\r\nSorry, it did not work out.\r\n';
    assert.equal(finalReply(await swaks(alphaReturnPath, garbage)), '250 Ok: kept for review');
    const record = await gateway.waitForLog('feedback kept in the dead-letter folder');
    assert.equal(record.reason, 'neither a delivery status notification, a feedback report nor an automatic reply');
    const directory = join(gateway.dataDir, 'dead-letter');
    const [file] = readdirSync(directory);
    assert.equal(file, record.file);
    assert.equal(statSync(join(directory, file!)).mode & 0o777, 0o600);
    const kept = readFileSync(join(directory, file!), 'latin1');
    assert.ok(kept.includes(`X-Relaygate-Envelope-To: <${alphaReturnPath}>\r\n`), kept);
    // swaks ends DATA with a line break of its own.
    assert.equal(kept.slice(kept.indexOf('Subject: your mail')), `${garbage}\r\n`);
  });
});
