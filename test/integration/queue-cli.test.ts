import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { cli, cliJson } from '../support/cli-runner.js';
import { startGatewayProcess, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, submit, testDeliveryConfig, waitForDetails } from '../support/delivery-fixture.js';

interface RecipientJson {
  Recipient: string;
  State: string;
  Attempts: number;
  SmtpResponse: string | null;
  BounceType: string | null;
  BounceSubType: string | null;
  RemoteMtaIp: string | null;
  MxHost: string | null;
  NextAttemptAt: string | null;
  LastAttemptAt: string | null;
  ProcessingTimeMillis: number | null;
  Tags: Record<string, string[]>;
}

describe('relaygate queue and bounce-rule', () => {
  let dns: TestDnsServer;
  let sink: SinkMx;
  let gateway: GatewayProcess;
  let credential: TestCredential;
  let messageId: string;
  let fullAttempts = 0;

  const recipients = (id: string) => cliJson<{ Recipients: RecipientJson[]; CompletedAt: string | null }>(gateway.dataDir, 'queue', 'show', id);
  const full = async (id: string) => (await recipients(id)).Recipients.find((recipient) => recipient.Recipient === 'full@cli.test')!;

  before(async () => {
    [sink] = (await startSinks([{ host: '127.0.0.4', behaviour: (ctx) => (ctx.stage === 'RCPT' && ctx.recipient.startsWith('full@') ? (fullAttempts++, '452 4.2.2 Mailbox full') : 'accept') }])) as [SinkMx];
    dns = await startDnsServer({ 'cli.test': { MX: [{ exchange: 'mx.cli.test', priority: 10 }] }, 'mx.cli.test': { A: ['127.0.0.4'] } });
    // An hour between attempts: only the operator's commands make the deferred recipient go again.
    gateway = await startGatewayProcess({ config: testDeliveryConfig(dns, sink.port, { retry: { firstDelaySeconds: 3600, maxDelaySeconds: 3600 } }), listen: ['127.0.0.1:0=tls'] });
    credential = await provisionCredential(gateway.dataDir);
    messageId = await submit(gateway, credential, { to: ['full@cli.test', 'ok@cli.test'] });
    await waitForDetails(gateway.dataDir, messageId, (details) => details.deliveries.every((delivery) => delivery.state !== 'queued' && delivery.state !== 'leased'));
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([sink.close(), dns.close()]);
  });

  test("queue show: each recipient's state and last result, under the names of SES notifications", async () => {
    const shown = await recipients(messageId);
    const [deferred, delivered] = shown.Recipients;
    assert.equal(shown.CompletedAt, null);
    assert.deepEqual(
      [deferred!.Recipient, deferred!.State, deferred!.Attempts, deferred!.SmtpResponse, deferred!.BounceType, deferred!.BounceSubType, deferred!.RemoteMtaIp, deferred!.MxHost],
      ['full@cli.test', 'deferred', 1, '452 4.2.2 Mailbox full', 'Transient', 'MailboxFull', '127.0.0.4', 'mx.cli.test'],
    );
    assert.ok(Date.parse(deferred!.NextAttemptAt!) - Date.parse(deferred!.LastAttemptAt!) > 45 * 60_000, 'next attempt in about an hour');
    assert.deepEqual([delivered!.Recipient, delivered!.State, delivered!.SmtpResponse, delivered!.NextAttemptAt], ['ok@cli.test', 'delivered', '250 OK', null]);
    assert.equal(typeof delivered!.ProcessingTimeMillis, 'number');
    // The tags an event about the recipient carries: the message's, and ses:outgoing-ip, the address the MX saw.
    const [received] = await sink.waitForMessages(1);
    for (const recipient of [deferred!, delivered!]) {
      assert.deepEqual(recipient.Tags, {
        'ses:source-ip': ['127.0.0.1'],
        'ses:from-domain': ['example.com'],
        'ses:caller-identity': [credential.userName],
        'ses:outgoing-ip': [received!.remoteAddress],
      });
    }
    const text = await cli(gateway.dataDir, 'queue', 'show', messageId);
    assert.equal(text.code, 0);
    assert.match(text.stdout, new RegExp(`^Message ID: ${messageId}\\n`));
    assert.match(text.stdout, /\nRECIPIENT\s+STATE\s+ATTEMPTS\s+NEXT ATTEMPT\s+BOUNCE\s+LAST RESPONSE\nfull@cli\.test\s+deferred\s+1\s+\S+\s+-\s+452 4\.2\.2 Mailbox full\n/);

    const listed = await cliJson<Array<{ MessageId: string; States: Record<string, number> }>>(gateway.dataDir, 'queue', 'list', '--domain', 'cli.test');
    assert.deepEqual(listed.find((message) => message.MessageId === messageId)?.States, { deferred: 1, delivered: 1 });
  });

  test('queue retry makes the deferred recipient go at once (the running gateway is woken); hold keeps it; release lets it go again', async () => {
    assert.deepEqual(await cliJson(gateway.dataDir, 'queue', 'retry', messageId), { Action: 'retry', Deliveries: 1 });
    await waitForDetails(gateway.dataDir, messageId, (details) => details.deliveries[0]!.attempts === 2 && details.deliveries[0]!.state === 'deferred');

    const held = await cli(gateway.dataDir, 'queue', 'hold', '--domain', 'cli.test');
    assert.equal(held.stdout, '1 delivery held\n');
    assert.equal((await full(messageId)).State, 'held');
    assert.deepEqual(await cliJson(gateway.dataDir, 'queue', 'retry', '--account', credential.accountId), { Action: 'retry', Deliveries: 0 }, 'held mail is not retried');

    assert.deepEqual(await cliJson(gateway.dataDir, 'queue', 'release', messageId), { Action: 'release', Deliveries: 1 });
    const released = await waitForDetails(gateway.dataDir, messageId, (details) => details.deliveries[0]!.attempts === 3 && details.deliveries[0]!.state === 'deferred');
    assert.equal(released.deliveries[0]!.response, '452 4.2.2 Mailbox full');
    assert.equal(fullAttempts, 3, 'initial attempt, retry, release');
  });

  test('queue delete ends the recipient without delivery or bounce; the message is complete and its body gone', async () => {
    const storedBody = () => {
      const queue = SqliteQueueStore.open(gateway.dataDir);
      try {
        return queue.get(messageId)!.body;
      } finally {
        queue.close();
      }
    };
    assert.notEqual(storedBody(), null);
    assert.deepEqual(await cliJson(gateway.dataDir, 'queue', 'delete', messageId), { Action: 'delete', Deliveries: 1 });
    const shown = await recipients(messageId);
    assert.notEqual(shown.CompletedAt, null);
    assert.deepEqual(
      shown.Recipients.map((recipient) => [recipient.Recipient, recipient.State]),
      [
        ['full@cli.test', 'deleted'],
        ['ok@cli.test', 'delivered'],
      ],
    );
    assert.equal(storedBody(), null);
    const pending = await cliJson<Array<{ MessageId: string }>>(gateway.dataDir, 'queue', 'list');
    assert.equal(pending.some((message) => message.MessageId === messageId), false, 'list shows mail still to deliver');
    const all = await cliJson<Array<{ MessageId: string }>>(gateway.dataDir, 'queue', 'list', '--all');
    assert.equal(all.some((message) => message.MessageId === messageId), true);
  });

  test('operator mistakes: no selection, unknown message', async () => {
    const unselected = await cli(gateway.dataDir, 'queue', 'hold');
    assert.equal(unselected.code, 1);
    assert.equal(unselected.stderr, 'relaygate: say which mail: a message id, --domain DOMAIN or --account ACCOUNT\n');
    const unknown = await cli(gateway.dataDir, 'queue', 'show', 'nope');
    assert.equal(unknown.code, 1);
    assert.equal(unknown.stderr, 'relaygate: message nope does not exist\n');
  });

  test('bounce-rule test shows how a reply is classified, as text and JSON', async () => {
    const text = await cli(gateway.dataDir, 'bounce-rule', 'test', '550 5.1.1 <a@example.com>: Recipient address rejected: User unknown');
    assert.equal(
      text.stdout,
      ['action:        bounce', 'bounce type:   Permanent/NoEmail', 'category:      recipient', 'rule:          unknown-recipient-code', 'reply code:    550', 'enhanced code: 5.1.1', ''].join('\n'),
    );
    assert.deepEqual(await cliJson(gateway.dataDir, 'bounce-rule', 'test', '451 4.7.1 Greylisted, try again later'), {
      action: 'retry',
      bounceType: 'Transient',
      bounceSubType: 'General',
      category: 'greylist',
      rule: 'greylisting',
      code: 451,
      enhancedCode: '4.7.1',
    });
    const staged = await cliJson<{ rule: string }>(gateway.dataDir, 'bounce-rule', 'test', 'Connection closed unexpectedly', '--stage', 'tls');
    assert.equal(staged.rule, 'tls-failure');
  });
});
