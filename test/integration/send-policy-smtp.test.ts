import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { RELAYGATE_BIN, startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { run } from '../support/external-tools.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { messageText } from '../support/message-text.js';
import { waitUntil } from '../support/wait-until.js';

const ACCOUNT = '111111111111';
const SANDBOXED = '222222222222';
const PARTNER = '333333333333';
const NOT_VERIFIED = '554 Message rejected: Email address is not verified. The following identities failed the check in region us-east-1:';

interface Credential {
  user: string;
  password: string;
}

describe('the send policy over SMTP, set up with the CLI', () => {
  let dns: TestDnsServer;
  let gateway: GatewayProcess;
  let dataDir: string;
  const credentials = new Map<string, Credential>();

  const cli = async (...args: string[]) => {
    const result = await run(process.execPath, [RELAYGATE_BIN, '--data-dir', dataDir, '--config', join(dataDir, 'relaygate.yaml'), ...args]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  /** Sends one message and returns the reply to its DATA (or the first refusal before it). */
  async function send(account: string, options: { mailFrom?: string; to?: string[]; headers?: string[]; from?: string; body?: string } = {}): Promise<string> {
    const credential = credentials.get(account)!;
    const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    try {
      await dialog.reply();
      await dialog.ehlo();
      assert.equal(await dialog.authPlain(credential.user, credential.password), '235 Authentication successful');
      assert.equal(await dialog.command(`MAIL FROM:<${options.mailFrom ?? 'sender@example.com'}>`), '250 Ok');
      for (const recipient of options.to ?? ['recipient@example.org']) assert.equal(await dialog.command(`RCPT TO:<${recipient}>`), '250 Ok');
      assert.equal(await dialog.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
      dialog.write(`${messageText({ from: options.from, extraHeaders: options.headers, body: options.body })}.\r\n`);
      return await dialog.line();
    } finally {
      dialog.close();
    }
  }

  before(async () => {
    dns = await startDnsServer();
    dataDir = tempDir();
    gateway = await startGatewayProcess({
      dataDir,
      config: { smtp: { hostname: 'relay.test' }, dns: { servers: [dns.address], timeoutMs: 500 }, verification: { pendingCheckSeconds: 1 }, delivery: { enabled: false } },
      listen: ['127.0.0.1:0=tls'],
    });
    for (const account of [ACCOUNT, SANDBOXED, PARTNER]) {
      await cli('account', 'create', '--id', account);
      const created = JSON.parse(await cli('credentials', 'create', '--account', account, '--user-name', `app-${account}`, '--json')) as { SmtpUserName: string; SmtpPassword: string };
      credentials.set(account, { user: created.SmtpUserName, password: created.SmtpPassword });
    }
    await cli('account', 'update', ACCOUNT, '--sandbox', 'false', '--max-send-rate', '100', '--max-24h-send', '10');
    await cli('account', 'update', PARTNER, '--sandbox', 'false');
  });
  after(async () => {
    await gateway.stop();
    await dns.close();
  });

  test('an unverified sender is refused; publishing the DKIM record and `identity verify` fixes it', async () => {
    assert.equal(await send(ACCOUNT), `${NOT_VERIFIED} sender@example.com`);
    const identity = JSON.parse(await cli('identity', 'create', 'example.com', '--account', ACCOUNT, '--json')) as {
      VerificationStatus: string;
      DnsRecords: Array<{ Name: string; Type: string; Value: string }>;
    };
    assert.equal(identity.VerificationStatus, 'Pending');
    const dkim = identity.DnsRecords.find((record) => record.Name.endsWith('._domainkey.example.com'));
    assert.ok(dkim);
    assert.match(dkim.Value, /^v=DKIM1; k=rsa; p=MIIBIjAN[A-Za-z0-9+/]+=*$/, '2048-bit RSA key by default');
    assert.equal(await cli('identity', 'verify', 'example.com', '--account', ACCOUNT), 'example.com: Pending\n');
    dns.setRecords(dkim.Name, 'TXT', [dkim.Value]);
    assert.equal(await cli('identity', 'verify', 'example.com', '--account', ACCOUNT), 'example.com: Success\n');
    assert.match(await send(ACCOUNT), /^250 Ok \S+$/);
  });

  test('the gateway re-checks pending domains by itself (the verification TXT record)', async () => {
    const identity = JSON.parse(await cli('identity', 'create', 'auto.example', '--account', ACCOUNT, '--no-dkim', '--json')) as { DnsRecords: Array<{ Name: string; Value: string }> };
    assert.deepEqual(identity.DnsRecords.map((record) => record.Name), ['_relaygate.auto.example']);
    dns.setRecords('_relaygate.auto.example', 'TXT', [identity.DnsRecords[0]!.Value]);
    const changed = () => gateway.logs.find((entry) => entry.msg === 'identity verification status changed' && entry.identity === 'auto.example');
    await waitUntil(() => changed() !== undefined, 'the verification status change of auto.example', 30_000, 100);
    assert.equal(changed()!.status, 'Success');
    assert.match(await send(ACCOUNT, { mailFrom: 'news@auto.example', from: 'news@auto.example' }), /^250 Ok /);
  });

  test("configuration sets: unknown, paused; tags stored with the message, a tag with characters outside SES's set dropped", async () => {
    await cli('configset', 'create', 'ConfigSet', '--account', ACCOUNT);
    assert.equal(await send(ACCOUNT, { headers: ['X-SES-CONFIGURATION-SET: Nope'] }), '554 Configuration set does not exist: Configuration set Nope does not exist.');
    const accepted = await send(ACCOUNT, { headers: ['X-SES-CONFIGURATION-SET: ConfigSet', 'X-SES-MESSAGE-TAGS: campaign=welcome'] });
    const messageId = /^250 Ok (\S+)$/.exec(accepted)?.[1];
    assert.ok(messageId, accepted);
    const queue = SqliteQueueStore.open(dataDir);
    try {
      const stored = queue.get(messageId)!;
      assert.equal(stored.metadata.configurationSet, 'ConfigSet');
      assert.deepEqual(stored.metadata.tags, {
        campaign: ['welcome'],
        'ses:configuration-set': ['ConfigSet'],
        'ses:source-ip': ['127.0.0.1'],
        'ses:from-domain': ['example.com'],
        'ses:caller-identity': [`app-${ACCOUNT}`],
      });
    } finally {
      queue.close();
    }
    // The guide: a tag outside SES's character set does not stop the send, its events just lack it.
    const withBadTag = /^250 Ok (\S+)$/.exec(await send(ACCOUNT, { headers: ['X-SES-MESSAGE-TAGS: campaign=two words, team=sales, price=9.99'] }))?.[1];
    assert.ok(withBadTag, 'accepted');
    const reopened = SqliteQueueStore.open(dataDir);
    try {
      assert.deepEqual(reopened.get(withBadTag)!.metadata.tags, {
        team: ['sales'],
        'ses:source-ip': ['127.0.0.1'],
        'ses:from-domain': ['example.com'],
        'ses:caller-identity': [`app-${ACCOUNT}`],
      });
    } finally {
      reopened.close();
    }
    // The log line travels over a pipe: it may come a moment after the reply.
    const deadline = Date.now() + 5000;
    const acceptedRecord = () => gateway.logs.find((record) => record.msg === 'message accepted' && record.messageId === withBadTag);
    while (!acceptedRecord() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const acceptedLog = acceptedRecord();
    assert.deepEqual(acceptedLog?.droppedMessageTags, ['campaign=two words', 'price=9.99']);
    await cli('configset', 'update', 'ConfigSet', '--account', ACCOUNT, '--sending-enabled', 'false');
    assert.equal(await send(ACCOUNT, { headers: ['X-SES-CONFIGURATION-SET: ConfigSet'] }), '554 Message rejected: Sending is paused for configuration set ConfigSet');
    await cli('configset', 'update', 'ConfigSet', '--account', ACCOUNT, '--sending-enabled', 'true');
  });

  test('a paused account', async () => {
    await cli('account', 'sending', ACCOUNT, 'disable');
    assert.equal(await send(ACCOUNT), '554 Message rejected: Account is paused');
    await cli('account', 'sending', ACCOUNT, 'enable');
  });

  test('an IAM policy that denies', async () => {
    const path = join(tempDir(), 'deny.json');
    writeFileSync(path, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 'ses:SendRawEmail', Resource: '*', Condition: { StringLike: { 'ses:Recipients': '*@blocked.example' } } }] }));
    await cli('policy', 'put', 'no-blocked', '--account', ACCOUNT, '--user', `app-${ACCOUNT}`, '--file', path);
    assert.equal(
      await send(ACCOUNT, { to: ['someone@blocked.example'] }),
      `554 Access denied: User arn:aws:iam::${ACCOUNT}:user/app-${ACCOUNT} is not authorized to perform ses:SendRawEmail on resource arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`,
    );
    await cli('policy', 'delete', 'no-blocked', '--account', ACCOUNT, '--user', `app-${ACCOUNT}`);
  });

  test('content: duplicate headers and blocked attachments', async () => {
    assert.equal(await send(ACCOUNT, { headers: ['Subject: again'] }), "554 Transaction failed: Duplicate header 'Subject'.");
    assert.equal(
      await send(ACCOUNT, {
        headers: ['MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"'],
        body: '--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/octet-stream; name="tool.exe"\r\n\r\nAA==\r\n--b--\r\n',
      }),
      "554 Transaction failed: Attachment 'tool.exe' has an unsupported file type.",
    );
  });

  test('the sandbox: verified recipients or the mailbox simulator only, 1 per second', async () => {
    await cli('identity', 'create', 'example.com', '--account', SANDBOXED, '--verified');
    assert.equal(await send(SANDBOXED, { to: ['stranger@example.org'] }), `${NOT_VERIFIED} stranger@example.org`);
    assert.match(await send(SANDBOXED, { to: ['success@simulator.amazonses.com'] }), /^250 Ok /);
    assert.equal(await send(SANDBOXED, { to: ['success@simulator.amazonses.com'] }), '454 Throttling failure: Maximum sending rate exceeded');
  });

  test('the daily quota, and `relaygate quota`', async () => {
    const quota = JSON.parse(await cli('quota', ACCOUNT, '--json')) as { Max24HourSend: number; MaxSendRate: number; SentLast24Hours: number };
    assert.deepEqual({ max: quota.Max24HourSend, rate: quota.MaxSendRate }, { max: 10, rate: 100 });
    const remaining = 10 - quota.SentLast24Hours;
    assert.ok(remaining >= 2);
    assert.match(await send(ACCOUNT, { to: Array.from({ length: remaining - 1 }, (_, i) => `r${i}@example.org`) }), /^250 Ok /);
    assert.equal(await send(ACCOUNT, { to: ['x@example.org', 'y@example.org'] }), '454 Throttling failure: Daily message quota exceeded');
    assert.match(await send(ACCOUNT, { to: ['last@example.org'] }), /^250 Ok /, 'the refused message was not counted');
    assert.deepEqual(JSON.parse(await cli('quota', ACCOUNT, '--json')), { Max24HourSend: 10, MaxSendRate: 100, SentLast24Hours: 10 });
    assert.equal(await send(ACCOUNT, { to: ['over@example.org'] }), '454 Throttling failure: Daily message quota exceeded');
  });

  test("sending authorization: another account's identity with its policy; the ARN headers are removed", async () => {
    await cli('identity', 'create', 'partner.example', '--account', PARTNER, '--verified');
    const arn = `arn:aws:ses:us-east-1:${PARTNER}:identity/partner.example`;
    const headers = [`X-SES-SOURCE-ARN: ${arn}`, `X-SES-FROM-ARN: ${arn}`, `X-SES-RETURN-PATH-ARN: ${arn}`];
    const delegated = { mailFrom: 'news@partner.example', from: 'News <news@partner.example>', headers };
    await cli('account', 'update', ACCOUNT, '--max-24h-send', '1000');
    assert.equal(await send(ACCOUNT, delegated), `554 Access denied: User arn:aws:iam::${ACCOUNT}:user/app-${ACCOUNT} is not authorized to perform ses:SendRawEmail on resource ${arn}`);
    const path = join(tempDir(), 'authorize.json');
    writeFileSync(path, JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'AuthorizeApp', Effect: 'Allow', Resource: arn, Principal: { AWS: [ACCOUNT] }, Action: ['ses:SendEmail', 'ses:SendRawEmail'] }] }));
    await cli('policy', 'put', 'authorize-app', '--account', PARTNER, '--identity', 'partner.example', '--file', path);
    const messageId = /^250 Ok (\S+)$/.exec(await send(ACCOUNT, delegated))?.[1];
    assert.ok(messageId);
    const queue = SqliteQueueStore.open(dataDir);
    try {
      const stored = queue.get(messageId)!;
      assert.equal(stored.accountId, ACCOUNT, 'charged to the sending account');
      assert.deepEqual(stored.metadata.ses, { sourceArn: arn, fromArn: arn, returnPathArn: arn });
      assert.doesNotMatch(stored.header.toString('latin1'), /X-SES-/i);
    } finally {
      queue.close();
    }
  });
});
