import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { connect } from 'node:net';
import {
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetAccountCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  PutAccountSendingAttributesCommand,
  PutSuppressedDestinationCommand,
  GetSuppressedDestinationCommand,
  SendEmailCommand,
  SESv2Client,
  type SendEmailCommandInput,
} from '@aws-sdk/client-sesv2';
import { SendEmailCommand as SendEmailV1Command, SendRawEmailCommand, GetSendQuotaCommand, ListIdentitiesCommand, SESClient, VerifyDomainIdentityCommand } from '@aws-sdk/client-ses';
import { dkimVerify } from 'mailauth';
import nodemailer from 'nodemailer';
import { createResolver } from '../../src/delivery/mx/index.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { run } from '../support/external-tools.js';
import { sdkRejection } from '../support/sdk-rejection.js';
import { RELAYGATE_BIN, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, testDeliveryConfig, waitForFinal } from '../support/delivery-fixture.js';

const ACCOUNT = '333333333333';
const REGION = 'us-east-1';

/** SES's API through the real clients (AWS SDK v3 for SES v2 and v1, nodemailer's SES transport, the aws CLI) over loopback. */
describe('the SES HTTP API', () => {
  let dns: TestDnsServer;
  let sink: SinkMx;
  let gateway: GatewayProcess;
  let keys: { accessKeyId: string; secretAccessKey: string };
  let endpoint: string;

  const cli = async (...args: string[]) => {
    const result = await run(process.execPath, [RELAYGATE_BIN, '--data-dir', gateway.dataDir, '--config', join(gateway.dataDir, 'relaygate.yaml'), ...args]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const v2 = (options: Record<string, unknown> = {}) => new SESv2Client({ region: REGION, endpoint, credentials: keys, maxAttempts: 1, ...options });
  const v1 = (options: Record<string, unknown> = {}) => new SESClient({ region: REGION, endpoint, credentials: keys, maxAttempts: 1, ...options });

  /** Waits for the message's delivery and returns what the MX received, with its DKIM results. */
  async function delivered(messageId: string, recipient: string) {
    assert.equal((await waitForFinal(gateway.dataDir, messageId)).deliveries[0]!.state, 'delivered');
    const received = sink.messages.find((entry) => entry.rcptTo.includes(recipient))!;
    const resolver = createResolver({ servers: [dns.address], timeoutMs: 500 });
    const dkim = await dkimVerify(received.raw, { resolver: (name: string, type: string) => resolver.resolve(name, type) as Promise<never> });
    return { raw: received.raw.toString('latin1'), mailFrom: received.mailFrom, signatures: dkim.results.map((result) => [result.signingDomain, result.status.result]) };
  }

  const simple = (from: string, to: string, extra: Partial<SendEmailCommandInput> = {}): SendEmailCommandInput => ({
    FromEmailAddress: from,
    Destination: { ToAddresses: [to] },
    Content: { Simple: { Subject: { Data: 'Hello' }, Body: { Text: { Data: 'Simple body' } } } },
    ...extra,
  });

  before(async () => {
    [sink] = (await startSinks([{ host: '127.0.0.2' }])) as [SinkMx];
    dns = await startDnsServer({ 'inbox.test': { MX: [{ exchange: 'mx.inbox.test', priority: 10 }] }, 'mx.inbox.test': { A: ['127.0.0.2'] } });
    gateway = await startGatewayProcess({ config: { smtp: { hostname: 'relay.test' }, ...testDeliveryConfig(dns, sink.port) }, listen: ['127.0.0.1:0=tls'] });
    endpoint = `http://127.0.0.1:${gateway.httpPorts[0]}`;
    await cli('account', 'create', '--id', ACCOUNT);
    await cli('account', 'update', ACCOUNT, '--sandbox', 'false');
    // Management calls need more than the default sending policy (AmazonSesSendingAccess), as in SES.
    const created = JSON.parse(await cli('credentials', 'create', '--account', ACCOUNT, '--user-name', 'api', '--policy', 'full-access', '--json')) as { AccessKeyId: string; SecretAccessKey: string };
    keys = { accessKeyId: created.AccessKeyId, secretAccessKey: created.SecretAccessKey };
    const identity = JSON.parse(await cli('identity', 'create', 'api.test', '--account', ACCOUNT, '--verified', '--json')) as { DnsRecords: Array<{ Name: string; Value: string }> };
    for (const record of identity.DnsRecords.filter((entry) => entry.Name.includes('._domainkey.'))) dns.setRecords(record.Name, 'TXT', [record.Value]);
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([sink.close(), dns.close()]);
  });

  test('SES v2 SendEmail with Simple content arrives at the MX, DKIM-signed, under the message id the API returned', async () => {
    const { MessageId } = await v2().send(new SendEmailCommand(simple('News <news@api.test>', 'simple@inbox.test')));
    assert.match(MessageId!, /^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);
    const received = await delivered(MessageId!, 'simple@inbox.test');
    assert.deepEqual(received.signatures, [['api.test', 'pass']]);
    assert.match(received.raw, new RegExp(`^Message-ID: <${MessageId}@relay\\.test>\\r$`, 'm'));
    assert.match(received.raw, /^Subject: Hello\r$/m);
    assert.match(received.raw, /Simple body/);
  });

  test('SES v2 SendEmail with Raw content: the stored bytes are the client bytes (line endings normalised, as over SMTP)', async () => {
    const raw = 'From: news@api.test\nTo: raw@inbox.test\nSubject: Raw\nX-Custom: kept\n\nline one\nline two\n';
    const { MessageId } = await v2().send(new SendEmailCommand({ Content: { Raw: { Data: Buffer.from(raw) } } }));
    const received = await delivered(MessageId!, 'raw@inbox.test');
    assert.deepEqual(received.signatures, [['api.test', 'pass']]);
    assert.match(received.raw, /^X-Custom: kept\r$/m);
    assert.match(received.raw, /\r\n\r\nline one\r\nline two\r\n$/);
  });

  test('SES v1 SendRawEmail and SendEmail (the Query API) arrive', async () => {
    const raw = await v1().send(new SendRawEmailCommand({ Destinations: ['v1raw@inbox.test'], RawMessage: { Data: Buffer.from('From: news@api.test\r\nTo: someone@else.test\r\nSubject: v1\r\n\r\nv1 raw\r\n') } }));
    const rawReceived = await delivered(raw.MessageId!, 'v1raw@inbox.test');
    assert.deepEqual(rawReceived.signatures, [['api.test', 'pass']]);
    const sent = await v1().send(new SendEmailV1Command({ Source: 'news@api.test', Destination: { ToAddresses: ['v1simple@inbox.test', 'v1second@inbox.test'] }, Message: { Subject: { Data: 'v1 simple' }, Body: { Text: { Data: 'text' } } } }));
    assert.match((await delivered(sent.MessageId!, 'v1simple@inbox.test')).raw, /^Subject: v1 simple\r$/m);
    assert.match((await delivered(sent.MessageId!, 'v1second@inbox.test')).raw, /^To: v1simple@inbox\.test, v1second@inbox\.test\r$/m, 'the members in order');
    const quota = await v1().send(new GetSendQuotaCommand({}));
    const account = await v2().send(new GetAccountCommand({}));
    assert.deepEqual([quota.Max24HourSend, quota.MaxSendRate], [account.SendQuota?.Max24HourSend, account.SendQuota?.MaxSendRate]);
    assert.ok((quota.SentLast24Hours ?? 0) >= 3);
  });

  test("nodemailer's SES transport sends through an SESv2Client", async () => {
    const transport = nodemailer.createTransport({ SES: { sesClient: v2(), SendEmailCommand } });
    const info = await transport.sendMail({ from: 'news@api.test', to: 'nodemailer@inbox.test', subject: 'From nodemailer', text: 'nodemailer body' });
    const messageId = (info as { response: string }).response;
    assert.match(messageId, /-000000$/);
    assert.deepEqual((await delivered(messageId, 'nodemailer@inbox.test')).signatures, [['api.test', 'pass']]);
  });

  test('the aws CLI sends and lists identities', async () => {
    const env = { ...process.env, AWS_ACCESS_KEY_ID: keys.accessKeyId, AWS_SECRET_ACCESS_KEY: keys.secretAccessKey, AWS_DEFAULT_REGION: REGION, AWS_CONFIG_FILE: '/dev/null', AWS_SHARED_CREDENTIALS_FILE: '/dev/null' };
    const send = await run('aws', ['sesv2', 'send-email', '--endpoint-url', endpoint, '--from-email-address', 'news@api.test', '--destination', 'ToAddresses=cli@inbox.test', '--content', 'Simple={Subject={Data=From the CLI},Body={Text={Data=cli body}}}', '--output', 'json'], { env });
    assert.equal(send.code, 0, send.stderr);
    const { MessageId } = JSON.parse(send.stdout) as { MessageId: string };
    assert.deepEqual((await delivered(MessageId, 'cli@inbox.test')).signatures, [['api.test', 'pass']]);
    const list = await run('aws', ['sesv2', 'list-email-identities', '--endpoint-url', endpoint, '--output', 'json'], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.ok((JSON.parse(list.stdout) as { EmailIdentities: Array<{ IdentityName: string }> }).EmailIdentities.some((entry) => entry.IdentityName === 'api.test'));
    const wrong = await run('aws', ['sesv2', 'get-account', '--endpoint-url', endpoint], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'not-the-secret' } });
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.stderr, /\(SignatureDoesNotMatch\) when calling the GetAccount operation/);
  });

  test('identities: create, get, list, delete; then NotFoundException', async () => {
    const created = await v2().send(new CreateEmailIdentityCommand({ EmailIdentity: 'New.Example.test' }));
    assert.equal(created.IdentityType, 'DOMAIN');
    assert.equal(created.VerifiedForSendingStatus, false);
    assert.equal(created.DkimAttributes?.Status, 'PENDING');
    assert.equal(created.DkimAttributes?.Tokens?.length, 1);
    const got = await v2().send(new GetEmailIdentityCommand({ EmailIdentity: 'new.example.test' }));
    assert.equal(got.VerificationStatus, 'PENDING');
    assert.deepEqual(got.DkimAttributes?.Tokens, created.DkimAttributes?.Tokens);
    const listed = await v2().send(new ListEmailIdentitiesCommand({}));
    assert.deepEqual(listed.EmailIdentities?.map((entry) => entry.IdentityName).sort(), ['api.test', 'new.example.test']);
    const again = await sdkRejection(v2().send(new CreateEmailIdentityCommand({ EmailIdentity: 'new.example.test' })));
    assert.deepEqual([again.name, again.status], ['AlreadyExistsException', 400]);
    await v2().send(new DeleteEmailIdentityCommand({ EmailIdentity: 'new.example.test' }));
    const gone = await sdkRejection(v2().send(new GetEmailIdentityCommand({ EmailIdentity: 'new.example.test' })));
    assert.deepEqual(gone, { name: 'NotFoundException', status: 404, message: 'Email identity new.example.test does not exist.' });
    const token = await v1().send(new VerifyDomainIdentityCommand({ Domain: 'v1.example.test' }));
    assert.match(token.VerificationToken!, /^[0-9a-f]{32}$/);
    assert.deepEqual((await v1().send(new ListIdentitiesCommand({ IdentityType: 'Domain' }))).Identities, ['api.test', 'v1.example.test']);
  });

  test('send refusals come back as the typed errors of the SDKs', async () => {
    const unverified = await sdkRejection(v2().send(new SendEmailCommand(simple('someone@unverified.test', 'x@inbox.test'))));
    assert.deepEqual(unverified, {
      name: 'MessageRejected',
      status: 400,
      message: 'Email address is not verified. The following identities failed the check in region us-east-1: someone@unverified.test',
    });
    const v1Unverified = await sdkRejection(v1().send(new SendEmailV1Command({ Source: 'someone@unverified.test', Destination: { ToAddresses: ['x@inbox.test'] }, Message: { Subject: { Data: 's' }, Body: { Text: { Data: 't' } } } })));
    assert.equal(v1Unverified.name, 'MessageRejected');
    const missingSet = await sdkRejection(v2().send(new SendEmailCommand(simple('news@api.test', 'x@inbox.test', { ConfigurationSetName: 'NoSuchSet' }))));
    assert.deepEqual([missingSet.name, missingSet.status], ['NotFoundException', 404]);
    const template = await sdkRejection(v2().send(new SendEmailCommand({ FromEmailAddress: 'news@api.test', Destination: { ToAddresses: ['x@inbox.test'] }, Content: { Template: { TemplateName: 'Welcome', TemplateData: '{}' } } })));
    assert.deepEqual([template.name, template.status], ['NotFoundException', 404]);
    await v2().send(new PutAccountSendingAttributesCommand({ SendingEnabled: false }));
    try {
      assert.equal((await v2().send(new GetAccountCommand({}))).SendingEnabled, false);
      const paused = await sdkRejection(v2().send(new SendEmailCommand(simple('news@api.test', 'x@inbox.test'))));
      assert.deepEqual([paused.name, paused.status], ['SendingPausedException', 400]);
    } finally {
      await v2().send(new PutAccountSendingAttributesCommand({ SendingEnabled: true }));
    }
  });

  test('the suppression list through the API', async () => {
    await v2().send(new PutSuppressedDestinationCommand({ EmailAddress: 'Gone@Inbox.test', Reason: 'BOUNCE' }));
    const entry = await v2().send(new GetSuppressedDestinationCommand({ EmailAddress: 'gone@inbox.test' }));
    assert.equal(entry.SuppressedDestination?.EmailAddress, 'gone@inbox.test');
    assert.equal(entry.SuppressedDestination?.Reason, 'BOUNCE');
    assert.ok(entry.SuppressedDestination?.LastUpdateTime instanceof Date);
    const missing = await sdkRejection(v2().send(new GetSuppressedDestinationCommand({ EmailAddress: 'nobody@inbox.test' })));
    assert.deepEqual([missing.name, missing.status], ['NotFoundException', 404]);
  });

  test('authentication: wrong secret, unknown key, skewed clock, replay and no signature are refused with SES error codes', async () => {
    const wrong = await sdkRejection(v2({ credentials: { ...keys, secretAccessKey: 'wrong' } }).send(new GetAccountCommand({})));
    assert.deepEqual([wrong.name, wrong.status], ['SignatureDoesNotMatch', 403]);
    const unknown = await sdkRejection(v2({ credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } }).send(new GetAccountCommand({})));
    assert.deepEqual([unknown.name, unknown.status], ['UnrecognizedClientException', 403]);
    const v1Unknown = await sdkRejection(v1({ credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' } }).send(new GetSendQuotaCommand({})));
    assert.deepEqual([v1Unknown.name, v1Unknown.status], ['InvalidClientTokenId', 403]);
    const skewed = await sdkRejection(v2({ systemClockOffset: -20 * 60_000 }).send(new GetAccountCommand({})));
    assert.equal(skewed.name, 'RequestTimeTooSkewed');
    assert.match(skewed.message, /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 15 min\.\)$/);

    const unsigned = await fetch(`${endpoint}/v2/email/account`);
    assert.equal(unsigned.status, 403);
    assert.equal(unsigned.headers.get('x-amzn-errortype'), 'MissingAuthenticationToken');

    // The same signed request twice: the second is a replay.
    const captured: Array<{ url: string; headers: Record<string, string> }> = [];
    const client = v2();
    client.middlewareStack.add((next) => async (args) => {
      const request = args.request as { hostname: string; port: number; path: string; headers: Record<string, string> };
      captured.push({ url: `http://${request.hostname}:${request.port}${request.path}`, headers: { ...request.headers } });
      return next(args);
    }, { step: 'finalizeRequest', priority: 'low' });
    await client.send(new GetAccountCommand({}));
    const replay = await fetch(captured[0]!.url, { headers: captured[0]!.headers });
    assert.equal(replay.status, 403);
    assert.equal(replay.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
  });

  // Without the check, the server waits for the ten megabytes: the timeout turns that hang into a failure.
  test('a request without a known credential is refused before its body is read, and its connection closed', { timeout: 20_000 }, async () => {
    for (const authorization of [undefined, `AWS4-HMAC-SHA256 Credential=AKIAUNKNOWNUNKNOWN00/20261207/${REGION}/ses/aws4_request, SignedHeaders=host;x-amz-date, Signature=${'0'.repeat(64)}`]) {
      const socket = connect(gateway.httpPorts[0]!, '127.0.0.1');
      const answer = new Promise<string>((resolve) => {
        let text = '';
        socket.setEncoding('latin1').on('data', (chunk: string) => (text += chunk)).on('close', () => resolve(text));
      });
      // Ten megabytes announced, none sent: the answer cannot wait for them.
      socket.write(
        [`POST /v2/email/outbound-emails HTTP/1.1`, `Host: 127.0.0.1:${gateway.httpPorts[0]}`, 'Content-Type: application/json', 'Content-Length: 10000000', `X-Amz-Date: ${new Date().toISOString().replace(/[-:]|\.\d{3}/g, '')}`, ...(authorization ? [`Authorization: ${authorization}`] : []), '', ''].join('\r\n'),
      );
      const text = await answer;
      assert.match(text, /^HTTP\/1\.1 403 Forbidden\r\n/);
      assert.match(text, /\r\nConnection: close\r\n/i);
      assert.match(text, authorization ? /\r\nx-amzn-ErrorType: UnrecognizedClientException\r\n/ : /\r\nx-amzn-ErrorType: MissingAuthenticationToken\r\n/);
    }
  });

  test('GET /metrics, /healthz and /readyz on the metrics listener', async () => {
    const base = `http://127.0.0.1:${gateway.metricsPort}`;
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^relaygate_messages_total\{channel="http",result="accepted",code="250"\} \d+$/m);
    assert.match(metrics, /^relaygate_messages_total\{channel="http",result="refused",code="554"\} \d+$/m);
    assert.match(metrics, new RegExp(`^relaygate_account_recipients_total\\{account="${ACCOUNT}"\\} \\d+$`, 'm'));
    assert.match(metrics, /^relaygate_delivery_outcomes_total\{outcome="delivered",bounce_type=""\} \d+$/m);
    assert.match(metrics, /^relaygate_delivery_latency_seconds_count [1-9]\d*$/m);
    assert.match(metrics, /^relaygate_event_backlog\{consumer="send-statistics"\} \d+$/m);
    assert.match(metrics, /^relaygate_smtp_connections 0$/m);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const ready = await fetch(`${base}/readyz`);
    assert.deepEqual([ready.status, await ready.text()], [200, 'ready\n']);
  });
});
