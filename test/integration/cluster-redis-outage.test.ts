import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { startSinks, submit, testDeliveryConfig, waitForFinal } from '../support/delivery-fixture.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { run } from '../support/external-tools.js';
import { RELAYGATE_BIN, startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import type { TestCredential } from '../support/provision.js';
import { startTestRedis, type TestRedis } from '../support/redis-server.js';
import type { SinkMx } from '../support/sink-mx.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const ACCOUNT = '777788889999';
const KEY_PREFIX = 'relaygate-outage-test:';
/**
 * Short, so the test passes it; long enough for a submission right after Redis stops on a busy machine (the send
 * limiter's grace counts from the previous test's message).
 */
const GRACE_SECONDS = 8;

/**
 * Issue 11, Faults: one cluster node on a Redis of the test's own, which the test stops and starts again. It runs
 * against the Redis ControlStore and send limiter. One session process: the values cached before the outage are
 * each process's own, and the test's sessions must find those its first message read.
 */
describe('a cluster node while its Redis is unreachable', () => {
  let redis: TestRedis;
  let dns: TestDnsServer;
  let sink: SinkMx;
  let gateway: GatewayProcess;
  let credential: TestCredential;
  const accepted: string[] = [];

  const cli = async (...args: string[]) => {
    const result = await run(process.execPath, [RELAYGATE_BIN, '--data-dir', gateway.dataDir, '--config', join(gateway.dataDir, 'relaygate.yaml'), ...args]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const message = (subject: string) => ({ to: ['user@inbox.test'], subject });
  /** The metrics listener's readiness answer: status and body. */
  const readiness = async () => {
    const response = await fetch(`http://127.0.0.1:${gateway.metricsPort}/readyz`);
    return { status: response.status, text: await response.text() };
  };

  /** An open session that has authenticated (AUTH's reply is returned for the caller to check). */
  async function authenticated(): Promise<{ dialog: SmtpDialog; auth: string }> {
    const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    await dialog.reply();
    await dialog.ehlo();
    return { dialog, auth: await dialog.authPlain(credential.user, credential.password) };
  }

  before(async () => {
    redis = await startTestRedis();
    [sink] = (await startSinks([{ host: '127.0.0.2' }])) as [SinkMx];
    dns = await startDnsServer({ 'inbox.test': { MX: [{ exchange: 'mx.inbox.test', priority: 10 }] }, 'mx.inbox.test': { A: ['127.0.0.2'] } });
    gateway = await startGatewayProcess({
      config: { smtp: { hostname: 'relay.test', workers: 1 }, ...testDeliveryConfig(dns, sink.port), cluster: { redisUrl: redis.url, keyPrefix: KEY_PREFIX, redisGraceSeconds: GRACE_SECONDS } },
      listen: ['127.0.0.1:0=tls'],
    });
    await cli('account', 'create', '--id', ACCOUNT);
    await cli('account', 'update', ACCOUNT, '--sandbox', 'false');
    await cli('identity', 'create', 'example.com', '--account', ACCOUNT, '--verified');
    const created = JSON.parse(await cli('credentials', 'create', '--account', ACCOUNT, '--user-name', 'app', '--json')) as { SmtpUserName: string; SmtpPassword: string; SecretAccessKey: string };
    credential = { accountId: ACCOUNT, user: created.SmtpUserName, userName: 'app', password: created.SmtpPassword, secretAccessKey: created.SecretAccessKey };
    const client = new Redis(redis.url);
    try {
      assert.ok((await client.keys(`${KEY_PREFIX}*`)).length > 0, 'the control plane is in Redis');
    } finally {
      client.disconnect();
    }
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all([redis?.stop(), sink?.close(), dns?.close()]);
  });

  test('with Redis up, mail is accepted and delivered', async () => {
    const id = await submit(gateway, credential, message('before'));
    accepted.push(id);
    assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered');
    assert.deepEqual(await readiness(), { status: 200, text: 'ready\n' });
  });

  let heldOpen: SmtpDialog;

  test('Redis down: within the grace the cached credential and policy accept mail, and queued mail is delivered, DKIM-signed', async () => {
    await redis.stop();
    const id = await submit(gateway, credential, message('within the grace'));
    const notReady = await readiness();
    assert.equal(notReady.status, 503, 'a load balancer takes the node out while its Redis is away');
    assert.match(notReady.text, /^not ready: cluster Redis unavailable: /);
    accepted.push(id);
    const held = await authenticated();
    assert.equal(held.auth, '235 Authentication successful');
    heldOpen = held.dialog;
    assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered');
    const received = sink.messages.find((entry) => entry.raw.toString('latin1').includes('Subject: within the grace'));
    assert.match(received!.raw.toString('latin1'), /^DKIM-Signature: [^]*?d=example\.com;/m);
  });

  test('past the grace: DATA gets 451 4.3.0 Temporary service failure, a new AUTH 454 Temporary authentication failure', async () => {
    // The grace counts from the node's last answer from Redis, which came before Redis stopped.
    await sleep(GRACE_SECONDS * 1000 + 1500);
    assert.equal(await heldOpen.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    assert.equal(await heldOpen.command('RCPT TO:<user@inbox.test>'), '250 Ok');
    assert.match(await heldOpen.command('DATA'), /^354 /);
    assert.equal(await heldOpen.command('From: sender@example.com\r\nTo: user@inbox.test\r\nSubject: past the grace\r\n\r\nbody\r\n.'), '451 4.3.0 Temporary service failure');
    heldOpen.close();
    const late = await authenticated();
    assert.equal(late.auth, '454 Temporary authentication failure');
    late.dialog.close();
  });

  test('Redis back: the node recovers by itself', async () => {
    await redis.start();
    const deadline = Date.now() + 20_000;
    let id: string | undefined;
    while (!id) {
      try {
        id = await submit(gateway, credential, message('after'));
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(200);
      }
    }
    accepted.push(id);
    assert.deepEqual(await readiness(), { status: 200, text: 'ready\n' });
  });

  test('every message that got 250 is delivered', async () => {
    for (const id of accepted) assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered', id);
    assert.equal(sink.messages.length, accepted.length);
  });
});
