import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth';
import { createResolver } from '../../src/delivery/mx/index.js';
import { parseReturnPath } from '../../src/delivery/return-path.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { run } from '../support/external-tools.js';
import { RELAYGATE_BIN, startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, submit, testDeliveryConfig, waitForFinal, type TestMessage } from '../support/delivery-fixture.js';
import type { TestCredential } from '../support/provision.js';

const SENDER = '111111111111';
const OWNER = '222222222222';
const FEEDBACK_DOMAIN = 'feedback.relaygate.test';
const PARTNER_ARN = `arn:aws:ses:us-east-1:${OWNER}:identity/partner.test`;

/**
 * Which identity's settings sign and address a message, seen at the MX: the signatures are verified against the keys the
 * identities published in DNS, as a receiver would.
 */
describe("delivery with the From identity's DKIM key and custom MAIL FROM", () => {
  let dns: TestDnsServer;
  let sink: SinkMx;
  let gateway: GatewayProcess;
  let credential: TestCredential;

  const cli = async (...args: string[]) => {
    const result = await run(process.execPath, [RELAYGATE_BIN, '--data-dir', gateway.dataDir, '--config', join(gateway.dataDir, 'relaygate.yaml'), ...args]);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  /** Creates a verified identity and publishes its DKIM records in the test DNS. */
  async function verifiedIdentity(account: string, name: string, ...options: string[]): Promise<void> {
    const created = JSON.parse(await cli('identity', 'create', name, '--account', account, '--verified', '--json', ...options)) as { DnsRecords: Array<{ Name: string; Type: string; Value: string }> };
    for (const record of created.DnsRecords.filter((entry) => entry.Name.includes('._domainkey.'))) dns.setRecords(record.Name, 'TXT', [record.Value]);
  }

  /** Sends a message, waits for its delivery and returns what the MX received. */
  async function deliver(message: Omit<TestMessage, 'to'>) {
    const recipient = `user${sink.messages.length}@inbox.test`;
    const id = await submit(gateway, credential, { ...message, to: [recipient] });
    assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered');
    const received = sink.messages.find((entry) => entry.rcptTo.includes(recipient))!;
    const resolver = createResolver({ servers: [dns.address], timeoutMs: 500 });
    const dkim = await dkimVerify(received.raw, { resolver: (name: string, type: string) => resolver.resolve(name, type) as Promise<never> });
    return {
      id,
      signatures: dkim.results.map((result) => [result.signingDomain, result.status.result]),
      returnPathDomain: parseReturnPath(received.mailFrom)?.domain,
    };
  }

  before(async () => {
    [sink] = (await startSinks([{ host: '127.0.0.2' }])) as [SinkMx];
    dns = await startDnsServer({
      'inbox.test': { MX: [{ exchange: 'mx.inbox.test', priority: 10 }] },
      'mx.inbox.test': { A: ['127.0.0.2'] },
      'mail.partner.test': { MX: [{ exchange: FEEDBACK_DOMAIN, priority: 10 }], TXT: ['v=spf1 ip4:127.0.0.0/8 -all'] },
    });
    gateway = await startGatewayProcess({
      config: { smtp: { hostname: 'relay.test' }, ...testDeliveryConfig(dns, sink.port, { feedbackDomain: FEEDBACK_DOMAIN }) },
      listen: ['127.0.0.1:0=tls'],
    });
    for (const account of [SENDER, OWNER]) {
      await cli('account', 'create', '--id', account);
      await cli('account', 'update', account, '--sandbox', 'false');
    }
    const created = JSON.parse(await cli('credentials', 'create', '--account', SENDER, '--user-name', 'app', '--json')) as { SmtpUserName: string; SmtpPassword: string; SecretAccessKey: string };
    credential = { accountId: SENDER, userName: 'app', user: created.SmtpUserName, password: created.SmtpPassword, secretAccessKey: created.SecretAccessKey };
    await verifiedIdentity(SENDER, 'own.test');
    await verifiedIdentity(SENDER, 'shared.test');
    await verifiedIdentity(SENDER, 'postmaster@shared.test');
    await verifiedIdentity(OWNER, 'partner.test', '--mail-from', 'mail.partner.test');
    const policy = join(tempDir(), 'authorize.json');
    writeFileSync(policy, JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: [SENDER] }, Action: 'ses:SendRawEmail', Resource: PARTNER_ARN }] }));
    await cli('policy', 'put', 'authorize-sender', '--account', OWNER, '--identity', 'partner.test', '--file', policy);
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([sink.close(), dns.close()]);
  });

  test("the sender's own domain identity signs", async () => {
    const delivered = await deliver({ mailFrom: 'news@own.test', from: 'News <news@own.test>' });
    assert.deepEqual(delivered.signatures, [['own.test', 'pass']]);
    assert.equal(delivered.returnPathDomain, FEEDBACK_DOMAIN);
  });

  test("delegated sending: the identity owner's DKIM key and custom MAIL FROM, recorded as the owner's identity", async () => {
    const delivered = await deliver({
      mailFrom: 'news@partner.test',
      from: 'Partner <news@partner.test>',
      extraHeaders: [`X-SES-SOURCE-ARN: ${PARTNER_ARN}`, `X-SES-FROM-ARN: ${PARTNER_ARN}`],
    });
    assert.deepEqual(delivered.signatures, [['partner.test', 'pass']]);
    assert.equal(delivered.returnPathDomain, 'mail.partner.test');
    const queue = SqliteQueueStore.open(gateway.dataDir);
    try {
      const stored = queue.get(delivered.id)!;
      assert.equal(stored.accountId, SENDER, 'charged to the sending account');
      assert.equal(stored.metadata.identityAccountId, OWNER);
    } finally {
      queue.close();
    }
  });

  test('an address identity postmaster@ verified beside its domain: the domain still signs, for that address and the others', async () => {
    const other = await deliver({ mailFrom: 'info@shared.test', from: 'info@shared.test' });
    assert.deepEqual(other.signatures, [['shared.test', 'pass']]);
    const postmaster = await deliver({ mailFrom: 'postmaster@shared.test', from: 'postmaster@shared.test' });
    assert.deepEqual(postmaster.signatures, [['shared.test', 'pass']]);
  });
});
