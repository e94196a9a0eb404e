import { randomBytes } from 'node:crypto';
import { openReplayGuard } from '../../src/auth/open-replay-guard.js';
import { LocalSessionGate } from '../../src/smtp/session-gate.js';
import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SendEmailCommand as SendEmailV1Command, SESClient } from '@aws-sdk/client-ses';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SecretBox } from '../../src/auth/secret-box.js';
import { SigV4Verifier } from '../../src/auth/sigv4-verifier.js';
import { SmtpAuthenticator } from '../../src/auth/smtp-authenticator.js';
import { buildConfig, plaintextBlockList } from '../../src/config/load.js';
import { ApiServer } from '../../src/http/api/api-server.js';
import { buildSendPolicy } from '../../src/policy/build-send-policy.js';
import { MessageAcceptor } from '../../src/queue/message-acceptor.js';
import { Spool } from '../../src/queue/spool.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { MemorySendLimiter } from '../../src/ratelimit/index.js';
import { AuthThrottle } from '../../src/smtp/auth-throttle.js';
import { startListeners, stopListeners, type RunningListener } from '../../src/smtp/listeners.js';
import { TlsSessionCache } from '../../src/smtp/tls-session-cache.js';
import { createSubmissionHandlers } from '../../src/smtp/submission-handlers.js';
import { cachedControlStore } from '../../src/store/cached-control-store.js';
import { SqliteControlStore } from '../../src/store/sqlite/sqlite-control-store.js';
import { capturingLogger } from '../support/fault-watch.js';
import { tempDir } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { StoreOutage } from '../support/store-outage.js';
import { createTestCertificate } from '../support/test-certificate.js';

const GRACE_MS = 30_000;

/**
 * The submission paths with the cluster's control store and limiter unreachable: the gateway's real handlers,
 * listener, send policy, queue and HTTP API in this process, over real sockets, on a SQLite control store behind a
 * switchable outage (the StoreUnavailableError a Redis store throws) and the cache that cluster mode puts in front.
 * The cache's clock is moved forward to pass its grace.
 */
describe('replies while the shared store is unreachable', () => {
  const storeOutage = new StoreOutage();
  const limiterOutage = new StoreOutage();
  const { log, records } = capturingLogger();
  let clockSkew = 0;
  let sqlite: SqliteControlStore;
  let queue: SqliteQueueStore;
  let listeners: RunningListener[] = [];
  let api: ApiServer;
  let credential: TestCredential;
  let smtpPort: number;
  let endpoint: string;
  const accepted: string[] = [];

  before(async () => {
    const dataDir = tempDir();
    credential = await provisionCredential(dataDir);
    const config = buildConfig(
      { smtp: { hostname: 'relay.test', plaintextNetworks: ['127.0.0.0/8'] }, http: { listeners: ['127.0.0.1:0=http'], metricsListen: null } },
      { dataDir },
    );
    sqlite = SqliteControlStore.open(dataDir);
    const store = cachedControlStore(storeOutage.controlStore(sqlite), { graceMs: GRACE_MS, now: () => Date.now() + clockSkew, log });
    const limiter = limiterOutage.wrap('send limiter', new MemorySendLimiter());
    queue = SqliteQueueStore.open(dataDir);
    const spool = new Spool(dataDir);
    const submission = { smtp: config.smtp, nodeId: 'test1', policy: buildSendPolicy(store, limiter, config.region), spool, acceptor: new MessageAcceptor(spool, queue, log), log };
    const handlers = createSubmissionHandlers({
      ...submission,
      plaintextNetworks: plaintextBlockList(config.smtp.plaintextNetworks),
      authenticator: new SmtpAuthenticator(store, config.region),
      gate: new LocalSessionGate(config.smtp, new AuthThrottle(config.authThrottle)),
    });
    const certificate = await createTestCertificate(['relay.test']);
    const tlsSessions = new TlsSessionCache();
    const tls = { ...certificate, sniOptions: new Map(), minVersion: 'TLSv1.2' as const, selfSigned: true, key: [certificate.key], cert: [certificate.cert], ticketKeys: randomBytes(48) };
    listeners = await startListeners([{ host: '127.0.0.1', port: 0, mode: 'starttls', intake: false }], false, config.smtp, tls, { submission: handlers, intake: handlers }, tlsSessions, log);
    smtpPort = listeners[0]!.port;
    api = new ApiServer({ config, store, limiter, statistics: queue.statistics, submission, log }, new SigV4Verifier(store, SecretBox.open(config.http.secretKeyFile), config.region, openReplayGuard(dataDir)), null);
    endpoint = `http://127.0.0.1:${(await api.start(config.http.listeners, tls, tlsSessions))[0]!.port}`;
  });

  after(async () => {
    await Promise.all([stopListeners(listeners), api.stop()]);
    queue.close();
    await sqlite.close();
  });

  const keys = () => ({ accessKeyId: credential.user, secretAccessKey: credential.secretAccessKey });
  const v2 = () => new SESv2Client({ region: 'us-east-1', endpoint, credentials: keys(), maxAttempts: 1 });
  const v1 = () => new SESClient({ region: 'us-east-1', endpoint, credentials: keys(), maxAttempts: 1 });
  const sendV2 = () =>
    v2().send(new SendEmailCommand({ FromEmailAddress: 'sender@example.com', Destination: { ToAddresses: ['rcpt@example.net'] }, Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Hello' } } } } }));
  const sendV1 = () =>
    v1().send(new SendEmailV1Command({ Source: 'sender@example.com', Destination: { ToAddresses: ['rcpt@example.net'] }, Message: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'Hello' } } } }));

  async function apiFailure(request: Promise<unknown>): Promise<[string, number | undefined, string]> {
    try {
      await request;
    } catch (error) {
      const failure = error as Error & { $metadata?: { httpStatusCode?: number } };
      return [failure.name, failure.$metadata?.httpStatusCode, failure.message];
    }
    throw new Error('the request succeeded');
  }

  /** An authenticated session on the submission listener, and AUTH's reply. */
  async function session(): Promise<{ dialog: SmtpDialog; auth: string }> {
    const dialog = await SmtpDialog.open({ port: smtpPort });
    assert.match(await dialog.line(), /^220 /);
    await dialog.ehlo();
    return { dialog, auth: await dialog.authPlain(credential.user, credential.password) };
  }

  /** MAIL, RCPT and DATA in an authenticated session; returns the last reply. */
  async function send(dialog: SmtpDialog): Promise<string> {
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    assert.equal(await dialog.command('RCPT TO:<rcpt@example.net>'), '250 Ok');
    assert.match(await dialog.command('DATA'), /^354 /);
    const reply = await dialog.command('From: sender@example.com\r\nTo: rcpt@example.net\r\nSubject: outage\r\n\r\nbody\r\n.');
    const id = /^250 Ok (\S+)$/.exec(reply)?.[1];
    if (id) accepted.push(id);
    return reply;
  }

  /** A message over SMTP (AUTH, MAIL, RCPT, DATA) and one over the API, both accepted. */
  async function acceptedOnBothPaths(): Promise<void> {
    const { dialog, auth } = await session();
    assert.equal(auth, '235 Authentication successful');
    assert.match(await send(dialog), /^250 Ok /);
    dialog.close();
    const sent = await sendV2();
    assert.ok(sent.MessageId);
    accepted.push(sent.MessageId);
  }

  test('while the store answers, mail is accepted (and the reads are cached)', () => acceptedOnBothPaths());

  test('within the grace after the store last answered, the cached credential and policy still accept mail', async () => {
    storeOutage.down = true;
    clockSkew += 5_000;
    await acceptedOnBothPaths();
    assert.ok(records.some((record) => record.msg === 'control store unreachable: answering from cached values while the grace lasts, then with temporary failures'));
  });

  test('past the grace: DATA gets 451 4.3.0, a new AUTH gets SES\'s 454, the API 503 ServiceUnavailable', async () => {
    const { dialog, auth } = await session();
    assert.equal(auth, '235 Authentication successful');
    clockSkew += GRACE_MS;
    assert.equal(await send(dialog), '451 4.3.0 Temporary service failure');
    // The session stays usable: the client may try again in it.
    assert.equal(await dialog.command('RSET'), '250 Flushed');
    dialog.close();
    const late = await session();
    assert.equal(late.auth, '454 Temporary authentication failure');
    late.dialog.close();
    const unavailable = ['ServiceUnavailable', 503, 'The request has failed due to a temporary failure of the server.'];
    assert.deepEqual(await apiFailure(sendV2()), unavailable);
    assert.deepEqual(await apiFailure(sendV1()), unavailable);
    assert.ok(records.some((record) => record.msg === 'message refused by policy' && record.reply === '451 4.3.0 Temporary service failure' && record.step === 'credential-still-valid'));
  });

  test('when the store answers again the node recovers by itself', async () => {
    storeOutage.down = false;
    clockSkew += 1_000;
    await acceptedOnBothPaths();
    assert.ok(records.some((record) => record.msg === 'control store reachable again'));
  });

  test('an unreachable send limiter gives the same temporary failures', async () => {
    limiterOutage.down = true;
    const { dialog } = await session();
    assert.equal(await send(dialog), '451 4.3.0 Temporary service failure');
    dialog.close();
    assert.deepEqual(await apiFailure(sendV2()), ['ServiceUnavailable', 503, 'The request has failed due to a temporary failure of the server.']);
    assert.ok(records.some((record) => record.msg === 'message refused by policy' && record.step === 'send-limits' && record.reply === '451 4.3.0 Temporary service failure'));
    limiterOutage.down = false;
  });

  test('every message that got 250 (or a MessageId) is queued, and only those', () => {
    assert.equal(accepted.length, 6);
    assert.deepEqual(queue.list().map((message) => message.id).sort(), [...accepted].sort());
  });
});
