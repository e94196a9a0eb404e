import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseReturnPath } from '../../src/delivery/return-path.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import type { SinkBehaviour, SinkMx } from '../support/sink-mx.js';
import { startSinks, submit, testDeliveryConfig, waitForDetails, waitForFinal } from '../support/delivery-fixture.js';

const FEEDBACK_DOMAIN = 'bounces.relaygate.test';

/** Answers the first `times` calls with `first`, then accepts. */
function firstThen(times: number, first: ReturnType<SinkBehaviour>): SinkBehaviour {
  let calls = 0;
  return () => (calls++ < times ? first : 'accept');
}

describe('delivery to MX hosts', () => {
  let dns: TestDnsServer;
  let sinks: Record<string, SinkMx>;
  let gateway: GatewayProcess;
  let credential: TestCredential;
  let releaseGate: () => void = () => undefined;

  before(async () => {
    const gate = new Promise<void>((resolve) => (releaseGate = resolve));
    const started = await startSinks([
      { host: '127.0.0.2', tlsNames: ['mx.alpha.test'] },
      { host: '127.0.0.3', starttls: false },
      { host: '127.0.0.4' },
      { host: '127.0.0.6', behaviour: (ctx) => (ctx.stage === 'RCPT' ? firstCall() : 'accept') },
      { host: '127.0.0.7', behaviour: (ctx) => (ctx.stage === 'RCPT' && ctx.recipient.startsWith('gone@') ? '550 5.1.1 <gone@bounce.test>: Recipient address rejected: User unknown in virtual mailbox table' : 'accept') },
      { host: '127.0.0.8', behaviour: firstThen(1, { delayMs: 1500, then: 'disconnect' }) },
      { host: '127.0.0.9', brokenTls: true },
      { host: '127.0.0.10', behaviour: firstThen(1, gate.then(() => 'accept' as const)) },
      { host: '127.0.0.11', behaviour: (ctx) => (ctx.stage === 'RCPT' && ctx.rcptTo.length >= 2 ? '452 4.5.3 Too many recipients' : 'accept') },
    ]);
    // The greylisting sink defers the first RCPT only.
    let greylisted = false;
    function firstCall(): ReturnType<SinkBehaviour> {
      if (greylisted) return 'accept';
      greylisted = true;
      return '451 4.7.1 Greylisted, please try again in 2 seconds';
    }
    sinks = Object.fromEntries(started.map((sink) => [sink.host, sink]));
    dns = await startDnsServer({
      'alpha.test': { MX: [{ exchange: 'mx.alpha.test', priority: 10 }] },
      'mx.alpha.test': { A: ['127.0.0.2'] },
      'beta.test': { MX: [{ exchange: 'mx.beta.test', priority: 10 }] },
      'mx.beta.test': { A: ['127.0.0.3'] },
      'fallback.test': {
        MX: [
          { exchange: 'mx2.fallback.test', priority: 20 },
          { exchange: 'mx1.fallback.test', priority: 10 },
        ],
      },
      // Nothing listens on 127.0.0.5: the preferred MX refuses connections.
      'mx1.fallback.test': { A: ['127.0.0.5'] },
      'mx2.fallback.test': { A: ['127.0.0.4'] },
      'retry.test': { MX: [{ exchange: 'mx.retry.test', priority: 10 }] },
      'mx.retry.test': { A: ['127.0.0.6'] },
      'bounce.test': { MX: [{ exchange: 'mx.bounce.test', priority: 10 }] },
      'mx.bounce.test': { A: ['127.0.0.7'] },
      'slow.test': { MX: [{ exchange: 'mx.slow.test', priority: 10 }] },
      'mx.slow.test': { A: ['127.0.0.8'] },
      'nullmx.test': { MX: [{ exchange: '.', priority: 0 }] },
      'flaky.test': { MX: [{ exchange: 'mx.alpha.test', priority: 10 }] },
      'oldtls.test': { MX: [{ exchange: 'mx.oldtls.test', priority: 10 }] },
      'mx.oldtls.test': { A: ['127.0.0.9'] },
      'reuse.test': { MX: [{ exchange: 'mx.reuse.test', priority: 10 }] },
      'mx.reuse.test': { A: ['127.0.0.10'] },
      'split.test': { MX: [{ exchange: 'mx.split.test', priority: 10 }] },
      'mx.split.test': { A: ['127.0.0.11'] },
    });
    gateway = await startGatewayProcess({
      config: {
        smtp: { hostname: 'relaygate.test' },
        ...testDeliveryConfig(dns, started[0]!.port, {
          feedbackDomain: FEEDBACK_DOMAIN,
          retry: { firstDelaySeconds: 1, maxDelaySeconds: 2 },
          connectTimeoutMs: 1000,
          dataTimeoutMs: 1000,
          shaping: [{ match: { domain: 'reuse.test' }, maxConnections: 1 }],
        }),
      },
    });
    credential = await provisionCredential(gateway.dataDir);
  });
  after(async () => {
    releaseGate();
    await gateway.stop();
    await Promise.all([...Object.values(sinks).map((sink) => sink.close()), dns.close()]);
  });

  test('one message to two domains: a transaction per domain, STARTTLS where offered, dot lines intact, VERP return path, results recorded', async () => {
    const id = await submit(gateway, credential, { to: ['one@alpha.test', 'two@alpha.test', 'three@beta.test'], body: 'line one\r\n.\r\n..two dots\r\nlast\r\n' });
    const details = await waitForFinal(gateway.dataDir, id);
    const [atA] = await sinks['127.0.0.2']!.waitForMessages(1);
    const [atB] = await sinks['127.0.0.3']!.waitForMessages(1);
    assert.deepEqual(atA!.rcptTo, ['one@alpha.test', 'two@alpha.test']);
    assert.deepEqual(atB!.rcptTo, ['three@beta.test']);
    assert.equal(atA!.secure, true, 'STARTTLS where offered');
    assert.equal(atA!.servername, 'mx.alpha.test', 'SNI names the MX host');
    assert.equal(atB!.secure, false);
    const raw = atA!.raw.toString('latin1');
    assert.ok(raw.endsWith('\r\n\r\nline one\r\n.\r\n..two dots\r\nlast\r\n'), `body lines "." and ".." arrive as stored: ${JSON.stringify(raw)}`);
    assert.match(raw, new RegExp(`\\r\\nMessage-ID: <${id}@relaygate.test>\\r\\n`));
    const returnPath = parseReturnPath(atA!.mailFrom);
    assert.ok(returnPath, atA!.mailFrom);
    assert.equal(returnPath.domain, FEEDBACK_DOMAIN);
    assert.notEqual(atA!.mailFrom, atB!.mailFrom, 'each transaction has its own return path');
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.recipient, delivery.state, delivery.attempts, delivery.remoteMta, delivery.mxHost, delivery.reportingMta]),
      [
        ['one@alpha.test', 'delivered', 1, '127.0.0.2', 'mx.alpha.test', 'relaygate.test'],
        ['two@alpha.test', 'delivered', 1, '127.0.0.2', 'mx.alpha.test', 'relaygate.test'],
        ['three@beta.test', 'delivered', 1, '127.0.0.3', 'mx.beta.test', 'relaygate.test'],
      ],
    );
    for (const delivery of details.deliveries) {
      assert.equal(delivery.response, '250 OK');
      assert.equal(delivery.processingTimeMillis, delivery.finishedAt!.getTime() - details.receivedAt.getTime());
    }
    const queue = SqliteQueueStore.open(gateway.dataDir);
    try {
      assert.equal(queue.get(id)!.body, null, 'the (inline) body goes once every recipient is final');
    } finally {
      queue.close();
    }
  });

  test('MX preference and fallback: the preferred MX refuses connections, the next one gets the mail', async () => {
    const id = await submit(gateway, credential, { to: ['user@fallback.test'] });
    const details = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.attempts, delivery.mxHost, delivery.remoteMta]),
      [['delivered', 1, 'mx2.fallback.test', '127.0.0.4']],
    );
    assert.deepEqual((await sinks['127.0.0.4']!.waitForMessages(1)).map((message) => message.rcptTo), [['user@fallback.test']]);
  });

  test('4xx then success: deferred with the reply, retried after the time the reply asks for, then delivered', async () => {
    const id = await submit(gateway, credential, { to: ['user@retry.test'] });
    const deferred = await waitForDetails(gateway.dataDir, id, (details) => details.deliveries[0]!.state === 'deferred');
    const [first] = deferred.deliveries;
    assert.equal(first!.response, '451 4.7.1 Greylisted, please try again in 2 seconds');
    assert.equal(first!.attempts, 1);
    assert.equal(first!.nextAttemptAt!.getTime() - first!.lastAttemptAt!.getTime(), 2000, '"try again in 2 seconds" is honoured');
    assert.deepEqual([first!.bounceType, first!.bounceSubType, first!.category], ['Transient', 'General', 'greylist']);
    const done = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      done.deliveries.map((delivery) => [delivery.state, delivery.attempts, delivery.response]),
      [['delivered', 2, '250 OK']],
    );
    assert.equal(sinks['127.0.0.6']!.messages.length, 1);
  });

  test('5xx: that recipient bounces with its SES bounce type, the other one is delivered', async () => {
    const id = await submit(gateway, credential, { to: ['ok@bounce.test', 'gone@bounce.test'] });
    const details = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.recipient, delivery.state, delivery.attempts, delivery.bounceType, delivery.bounceSubType, delivery.response]),
      [
        ['ok@bounce.test', 'delivered', 1, null, null, '250 OK'],
        ['gone@bounce.test', 'bounced', 1, 'Permanent', 'NoEmail', '550 5.1.1 <gone@bounce.test>: Recipient address rejected: User unknown in virtual mailbox table'],
      ],
    );
    assert.deepEqual(sinks['127.0.0.7']!.messages.map((message) => message.rcptTo), [['ok@bounce.test']]);
  });

  test('no reply within dataTimeoutMs: deferred as a timeout, then delivered once', async () => {
    const id = await submit(gateway, credential, { to: ['user@slow.test'] });
    const deferred = await waitForDetails(gateway.dataDir, id, (details) => details.deliveries[0]!.state === 'deferred');
    assert.match(deferred.deliveries[0]!.response!, /^Timeout \(ETIMEDOUT\)$/);
    assert.equal(deferred.deliveries[0]!.bounceType, 'Transient');
    const done = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      done.deliveries.map((delivery) => [delivery.state, delivery.attempts]),
      [['delivered', 2]],
    );
    assert.equal(sinks['127.0.0.8']!.messages.length, 1, 'the timed-out attempt was cut off before the sink accepted it');
  });

  test('null MX and NXDOMAIN: permanent bounces without any connection', async () => {
    const id = await submit(gateway, credential, { to: ['user@nullmx.test', 'user@missing.test'] });
    const details = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.attempts, delivery.bounceType, delivery.bounceSubType, delivery.remoteMta, delivery.response]),
      [
        ['bounced', 1, 'Permanent', 'NoEmail', null, '556 5.1.10 Domain nullmx.test has a null MX record (RFC 7505)'],
        ['bounced', 1, 'Permanent', 'General', null, '550 5.1.2 Domain missing.test does not exist (NXDOMAIN)'],
      ],
    );
  });

  test('SERVFAIL: deferred, and delivered once DNS answers again', async () => {
    dns.failWith('flaky.test', 'SERVFAIL');
    const id = await submit(gateway, credential, { to: ['user@flaky.test'] });
    const deferred = await waitForDetails(gateway.dataDir, id, (details) => details.deliveries[0]!.state === 'deferred');
    assert.match(deferred.deliveries[0]!.response!, /^451 4\.4\.3 Temporary DNS failure looking up the MX records of flaky\.test \(ESERVFAIL\)$/);
    dns.failWith('flaky.test', null);
    const done = await waitForFinal(gateway.dataDir, id);
    assert.equal(done.deliveries[0]!.state, 'delivered');
    assert.equal(done.deliveries[0]!.mxHost, 'mx.alpha.test');
  });

  test('TLS policy Optional: a failed STARTTLS handshake is repeated in plaintext at once', async () => {
    const id = await submit(gateway, credential, { to: ['user@oldtls.test'] });
    const details = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.attempts]),
      [['delivered', 1]],
    );
    const sink = sinks['127.0.0.9']!;
    const [message] = await sink.waitForMessages(1);
    assert.equal(message!.secure, false);
    assert.equal(sink.connections.opened, 2, 'one connection whose handshake failed, one in plaintext');
  });

  test('connection reuse: mail for one destination waiting behind a busy connection goes over it, one transaction after another', async () => {
    const sink = sinks['127.0.0.10']!;
    const ids = [await submit(gateway, credential, { to: ['first@reuse.test'] })];
    for (let index = 0; index < 4; index++) ids.push(await submit(gateway, credential, { to: [`r${index}@reuse.test`] }));
    releaseGate();
    for (const id of ids) assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered');
    assert.deepEqual(sink.connections.perConnectionMessageCounts, [5], 'maxConnections 1: five messages over one connection');
  });

  test('452 too many recipients: the rest go in the next transaction on the same connection, without a retry delay', async () => {
    const recipients = ['a', 'b', 'c', 'd', 'e'].map((name) => `${name}@split.test`);
    const id = await submit(gateway, credential, { to: recipients });
    const details = await waitForFinal(gateway.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.attempts]),
      recipients.map(() => ['delivered', 1]),
    );
    const sink = sinks['127.0.0.11']!;
    assert.deepEqual(
      sink.messages.map((message) => message.rcptTo),
      [recipients.slice(0, 2), recipients.slice(2, 4), recipients.slice(4)],
    );
    assert.deepEqual(sink.connections.perConnectionMessageCounts, [3]);
  });
});
