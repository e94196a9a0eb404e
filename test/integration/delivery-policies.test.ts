import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authenticate } from 'mailauth';
import { createMtaStsChecker, createPolicyFetcher } from '../../src/delivery/mta-sts/index.js';
import { createResolver } from '../../src/delivery/mx/index.js';
import { parseReturnPath } from '../../src/delivery/return-path.js';
import { staticDeliverySettings, type DeliverySettings } from '../../src/delivery/delivery-settings.js';
import { dkimTxtRecord, generateDkimKey } from '../../src/message/dkim/index.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startPolicyServer, type TestPolicyServer } from '../support/mta-sts-policy-server.js';
import { tempDir } from '../support/gateway-process.js';
import { startEngine, type EngineHarness } from '../support/engine-harness.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, waitForDetails, waitForFinal } from '../support/delivery-fixture.js';

const identityKey = generateDkimKey('rsa-2048');
const gatewayKey = generateDkimKey('ed25519');

const dkimSignatures = (raw: Buffer) => raw.toString('latin1').match(/^DKIM-Signature:.*(?:\r\n[ \t].*)*\r\n/gm) ?? [];

describe('delivery with identities and configuration sets', () => {
  let dns: TestDnsServer;
  let sinks: Record<string, SinkMx>;
  let harness: EngineHarness;
  let firstAttempt: Buffer | null = null;
  let signerLookups = 0;
  const greylisted = new Map<string, string>();

  before(async () => {
    const started = await startSinks([
      { host: '127.0.0.4', starttls: false },
      { host: '127.0.0.5', tlsNames: ['mx.tls.test'] },
      {
        host: '127.0.0.9',
        behaviour: (ctx) => {
          if (ctx.stage !== 'RCPT' || greylisted.has(ctx.recipient)) return 'accept';
          greylisted.set(ctx.recipient, ctx.remoteAddress);
          return '451 4.7.1 Greylisted';
        },
      },
      {
        host: '127.0.0.6',
        behaviour: (ctx) => {
          if (ctx.stage !== 'DATA' || firstAttempt) return 'accept';
          firstAttempt = ctx.raw;
          return '451 4.3.0 Try again later';
        },
      },
    ]);
    sinks = Object.fromEntries(started.map((sink) => [sink.host, sink]));
    dns = await startDnsServer({
      'plain.test': { MX: [{ exchange: 'mx.plain.test', priority: 10 }] },
      'mx.plain.test': { A: ['127.0.0.4'] },
      'tls.test': { MX: [{ exchange: 'mx.tls.test', priority: 10 }] },
      'mx.tls.test': { A: ['127.0.0.5'] },
      'grey.test': { MX: [{ exchange: 'mx.grey.test', priority: 10 }] },
      'mx.grey.test': { A: ['127.0.0.9'] },
      'inbox.test': { MX: [{ exchange: 'mx.inbox.test', priority: 10 }] },
      'mx.inbox.test': { A: ['127.0.0.6'] },
      'sel._domainkey.example.com': { TXT: [dkimTxtRecord(identityKey)] },
      'gw._domainkey.relay.test': { TXT: [dkimTxtRecord(gatewayKey)] },
      '_dmarc.example.com': { TXT: ['v=DMARC1; p=reject; aspf=r; adkim=r'] },
      'mail.example.com': { MX: [{ exchange: 'feedback.relaygate.test', priority: 10 }], TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] },
      'norecord.test': { A: ['192.0.2.1'] },
      'bounces.norecord.test': { TXT: ['no MX here'] },
    });
    const keyFile = join(tempDir(), 'gateway-dkim.key');
    writeFileSync(keyFile, gatewayKey.privateKeyPem);
    harness = await startEngine({
      config: {
        dns: { servers: [dns.address], timeoutMs: 500 },
        delivery: {
          port: started[0]!.port,
          allowPrivateAddresses: true,
          retry: { firstDelaySeconds: 1, maxDelaySeconds: 2 },
          feedbackDomain: 'feedback.relaygate.test',
          pools: {
            default: { addresses: [{ address: '127.0.0.2' }] },
            transactional: { addresses: [{ address: '127.0.0.3', ehloName: 'mta3.relaygate.test' }] },
            pair: { addresses: [{ address: '127.0.0.7' }, { address: '127.0.0.8' }] },
          },
          dkim: { domain: 'relay.test', selector: 'gw', keyFile },
        },
      },
      settings: countingSignerLookups(staticDeliverySettings({
        configurationSets: {
          secure: { tlsPolicy: 'Require' },
          transactional: { tlsPolicy: 'Optional', sendingPoolName: 'transactional' },
          pair: { tlsPolicy: 'Optional', sendingPoolName: 'pair' },
        },
        dkimSigners: { 'example.com': [{ domain: 'example.com', selector: 'sel', privateKeyPem: identityKey.privateKeyPem, algorithm: identityKey.algorithm }] },
        customMailFrom: {
          'example.com': { domain: 'mail.example.com', behaviorOnMxFailure: 'UseDefaultValue' },
          'norecord.test': { domain: 'bounces.norecord.test', behaviorOnMxFailure: 'RejectMessage' },
          'fallback.test': { domain: 'bounces.norecord.test', behaviorOnMxFailure: 'UseDefaultValue' },
        },
      })),
    });
    function countingSignerLookups(settings: DeliverySettings): DeliverySettings {
      return { ...settings, dkimSigners: (accountId, domain) => (signerLookups++, settings.dkimSigners(accountId, domain)) };
    }
  });
  after(async () => {
    await harness.stop();
    await Promise.all([...Object.values(sinks).map((sink) => sink.close()), dns.close()]);
  });

  test('TLS policy Require: an MX without STARTTLS gets nothing and the recipient bounces', async () => {
    const id = await harness.accept({ to: ['user@plain.test'], configurationSet: 'secure' });
    const details = await waitForFinal(harness.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.attempts, delivery.bounceType, delivery.bounceSubType, delivery.mxHost]),
      [['bounced', 1, 'Permanent', 'General', 'mx.plain.test']],
    );
    assert.match(details.deliveries[0]!.response!, /^554 5\.7\.10 TLS is required for this message, but mx\.plain\.test does not offer STARTTLS \(5\d\d .*\)$/);
    assert.equal(sinks['127.0.0.4']!.messages.length, 0);
  });

  test('TLS policy Require: delivered over STARTTLS where the MX offers it', async () => {
    const id = await harness.accept({ to: ['user@tls.test'], configurationSet: 'secure' });
    assert.equal((await waitForFinal(harness.dataDir, id)).deliveries[0]!.state, 'delivered');
    const message = sinks['127.0.0.5']!.messages.find((received) => received.rcptTo.includes('user@tls.test'));
    assert.equal(message?.secure, true);
  });

  test("IP pools: the configuration set's sending pool is the source address the MX sees; without one, the default pool", async () => {
    const pooled = await harness.accept({ to: ['pooled@tls.test'], configurationSet: 'transactional' });
    const plain = await harness.accept({ to: ['default@tls.test'] });
    const [pooledDetails, plainDetails] = [await waitForFinal(harness.dataDir, pooled), await waitForFinal(harness.dataDir, plain)];
    const received = (recipient: string) => sinks['127.0.0.5']!.messages.find((message) => message.rcptTo.includes(recipient));
    assert.equal(received('pooled@tls.test')?.remoteAddress, '127.0.0.3');
    assert.equal(received('default@tls.test')?.remoteAddress, '127.0.0.2');
    assert.deepEqual([pooledDetails.deliveries[0]!.sourceIp, pooledDetails.deliveries[0]!.reportingMta], ['127.0.0.3', 'mta3.relaygate.test']);
    assert.deepEqual([plainDetails.deliveries[0]!.sourceIp, plainDetails.deliveries[0]!.reportingMta], ['127.0.0.2', 'relaygate.test']);
  });

  test('greylisting: a retry leaves from the same source address as the first attempt, though the pool has two', async () => {
    const ids = [];
    for (const name of ['a', 'b', 'c']) ids.push(await harness.accept({ to: [`${name}@grey.test`], configurationSet: 'pair' }));
    const details = await Promise.all(ids.map((id) => waitForFinal(harness.dataDir, id)));
    const sink = sinks['127.0.0.9']!;
    for (const message of details) {
      const [delivery] = message.deliveries;
      assert.deepEqual([delivery!.state, delivery!.attempts], ['delivered', 2]);
      const deliveredFrom = sink.messages.find((received) => received.rcptTo.includes(delivery!.recipient))?.remoteAddress;
      assert.equal(deliveredFrom, greylisted.get(delivery!.recipient), `${delivery!.recipient}: retried from its first address`);
    }
    assert.deepEqual(new Set(greylisted.values()), new Set(['127.0.0.7', '127.0.0.8']), 'the pool spreads first attempts over its addresses');
  });

  test('DKIM by the identity and the gateway pass, SPF and DMARC pass with the custom MAIL FROM; the signature is computed once and reused on retry', async () => {
    const lookupsBefore = signerLookups;
    const id = await harness.accept({ to: ['user@inbox.test'] });
    const details = await waitForFinal(harness.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.attempts]),
      [['delivered', 2]],
    );
    const [message] = await sinks['127.0.0.6']!.waitForMessages(1);
    const returnPath = parseReturnPath(message!.mailFrom);
    assert.equal(returnPath?.domain, 'mail.example.com', 'the identity’s custom MAIL FROM domain');
    const resolver = createResolver({ servers: [dns.address], timeoutMs: 500 });
    const result = await authenticate(message!.raw, {
      ip: message!.remoteAddress,
      helo: 'relaygate.test',
      sender: message!.mailFrom,
      mta: 'mx.inbox.test',
      resolver: (name: string, type: string) => resolver.resolve(name, type) as Promise<never>,
    });
    assert.deepEqual(
      result.dkim.results.map((entry) => [entry.signingDomain, entry.status.result]),
      [
        ['example.com', 'pass'],
        ['relay.test', 'pass'],
      ],
    );
    assert.equal(result.spf && result.spf.status.result, 'pass');
    assert.equal(result.dmarc && result.dmarc.status.result, 'pass');
    assert.ok(firstAttempt);
    assert.equal(dkimSignatures(message!.raw).length, 2);
    assert.deepEqual(dkimSignatures(firstAttempt), dkimSignatures(message!.raw), 'the retry carries the very signatures of the first attempt');
    assert.equal(signerLookups - lookupsBefore, 1, 'the identity’s signers were asked for once: the retry used the stored signature');
  });

  test('custom MAIL FROM without an MX record: RejectMessage bounces, UseDefaultValue sends from the feedback domain', async () => {
    const rejected = await harness.accept({ from: 'sender@norecord.test', mailFrom: 'sender@norecord.test', to: ['user@tls.test'] });
    const fallback = await harness.accept({ from: 'sender@fallback.test', mailFrom: 'sender@fallback.test', to: ['fallback@tls.test'] });
    const rejectedDetails = await waitForFinal(harness.dataDir, rejected);
    assert.deepEqual(
      rejectedDetails.deliveries.map((delivery) => [delivery.state, delivery.bounceType, delivery.response]),
      [['bounced', 'Permanent', '550 5.7.1 Custom MAIL FROM domain bounces.norecord.test has no MX record and its identity says RejectMessage (MailFromDomainNotVerified)']],
    );
    await waitForFinal(harness.dataDir, fallback);
    const message = sinks['127.0.0.5']!.messages.find((received) => received.rcptTo.includes('fallback@tls.test'));
    assert.equal(parseReturnPath(message!.mailFrom)?.domain, 'feedback.relaygate.test');
  });
});

describe('MTA-STS', () => {
  let dns: TestDnsServer;
  let sinks: Record<string, SinkMx>;
  let harness: EngineHarness;
  let policyServer: TestPolicyServer;

  before(async () => {
    const started = await startSinks([{ host: '127.0.0.4', tlsNames: ['mx1.sts.test'] }, { host: '127.0.0.5', tlsNames: ['mx2.sts.test'] }, { host: '127.0.0.6' }]);
    sinks = Object.fromEntries(started.map((sink) => [sink.host, sink]));
    dns = await startDnsServer({
      'sts.test': {
        MX: [
          { exchange: 'mx1.sts.test', priority: 10 },
          { exchange: 'mx2.sts.test', priority: 20 },
        ],
      },
      '_mta-sts.sts.test': { TXT: ['v=STSv1; id=20261123;'] },
      'mx1.sts.test': { A: ['127.0.0.4'] },
      'mx2.sts.test': { A: ['127.0.0.5'] },
      'badcert.test': { MX: [{ exchange: 'mx.badcert.test', priority: 10 }] },
      '_mta-sts.badcert.test': { TXT: ['v=STSv1; id=1;'] },
      'mx.badcert.test': { A: ['127.0.0.6'] },
      'nomatch.test': { MX: [{ exchange: 'mx1.sts.test', priority: 10 }] },
      '_mta-sts.nomatch.test': { TXT: ['v=STSv1; id=1;'] },
      'mta-sts.sts.test': { A: ['127.0.0.7'] },
      'mta-sts.badcert.test': { A: ['127.0.0.7'] },
      'mta-sts.nomatch.test': { A: ['127.0.0.7'] },
      'big.test': { MX: [{ exchange: 'mx1.sts.test', priority: 10 }] },
      '_mta-sts.big.test': { TXT: ['v=STSv1; id=1;'] },
      'mta-sts.big.test': { A: ['127.0.0.7'] },
    });
    policyServer = await startPolicyServer('127.0.0.7', ['sts.test', 'badcert.test', 'nomatch.test', 'big.test']);
    const oneMegabyte = 'mx: mx.elsewhere.test\r\n'.repeat(50_000);
    policyServer.policies.set('big.test', `version: STSv1\r\nmode: enforce\r\n${oneMegabyte}max_age: 86400\r\n`);
    policyServer.policies.set('sts.test', 'version: STSv1\r\nmode: enforce\r\nmx: mx2.sts.test\r\nmax_age: 86400\r\n');
    policyServer.policies.set('badcert.test', 'version: STSv1\r\nmode: enforce\r\nmx: *.badcert.test\r\nmax_age: 86400\r\n');
    policyServer.policies.set('nomatch.test', 'version: STSv1\r\nmode: enforce\r\nmx: mx.elsewhere.test\r\nmax_age: 86400\r\n');
    const resolver = createResolver({ servers: [dns.address], timeoutMs: 500 });
    harness = await startEngine({
      config: {
        dns: { servers: [dns.address], timeoutMs: 500 },
        delivery: { port: started[0]!.port, allowPrivateAddresses: true, retry: { firstDelaySeconds: 60, maxDelaySeconds: 60 } },
      },
      resolver,
      mtaSts: createMtaStsChecker({
        resolver,
        fetchPolicy: createPolicyFetcher({ resolver, port: policyServer.port, ca: [policyServer.certificate] }),
      }),
      tlsCa: started.map((sink) => sink.certificate!),
    });
  });
  after(async () => {
    await harness.stop();
    await Promise.all([...Object.values(sinks).map((sink) => sink.close()), dns.close(), policyServer.close()]);
  });

  test('enforce: an MX the policy does not list is never contacted; the listed one gets the mail over verified TLS', async () => {
    const id = await harness.accept({ to: ['user@sts.test'] });
    const details = await waitForFinal(harness.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.mxHost]),
      [['delivered', 'mx2.sts.test']],
    );
    assert.equal(sinks['127.0.0.4']!.connections.opened, 0, 'the preferred MX is not in the policy');
    const [message] = await sinks['127.0.0.5']!.waitForMessages(1);
    assert.equal(message!.secure, true);
    assert.equal(message!.servername, 'mx2.sts.test');
    assert.ok(policyServer.requests.some((request) => request.servername === 'mta-sts.sts.test'));
  });

  test('a policy over 64 KiB is not read: the domain counts as having none and its mail goes out', async () => {
    const id = await harness.accept({ to: ['user@big.test'] });
    const details = await waitForFinal(harness.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.state, delivery.mxHost]),
      [['delivered', 'mx1.sts.test']],
    );
    assert.ok(policyServer.requests.some((request) => request.servername === 'mta-sts.big.test'), 'the policy was asked for');
  });

  test('enforce: a certificate not valid for the MX name defers the mail instead of sending it', async () => {
    const id = await harness.accept({ to: ['user@badcert.test'] });
    const details = await waitForDetails(harness.dataDir, id, (current) => current.deliveries[0]!.state === 'deferred');
    assert.match(details.deliveries[0]!.response!, /Hostname\/IP does not match certificate's altnames.*\(ERR_TLS_CERT_ALTNAME_INVALID\)$/);
    assert.deepEqual([details.deliveries[0]!.bounceType, details.deliveries[0]!.category], ['Transient', 'tls']);
    assert.equal(sinks['127.0.0.6']!.messages.length, 0);
  });

  test('enforce: a policy that lists none of the MX hosts defers the mail', async () => {
    const id = await harness.accept({ to: ['user@nomatch.test'] });
    const details = await waitForDetails(harness.dataDir, id, (current) => current.deliveries[0]!.state === 'deferred');
    assert.equal(details.deliveries[0]!.response, '451 4.7.5 The MTA-STS policy of nomatch.test lists none of its MX hosts (mx1.sts.test)');
  });
});
