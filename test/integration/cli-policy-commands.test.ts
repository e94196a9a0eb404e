import test, { before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELAYGATE_BIN, tempDir } from '../support/gateway-process.js';
import { run } from '../support/external-tools.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';

const ACCOUNT = '123456789012';

describe('identity, configset, policy and quota commands', () => {
  const dataDir = tempDir();
  const cli = (...args: string[]) => run(process.execPath, [RELAYGATE_BIN, '--data-dir', dataDir, ...args], { env: { ...process.env, RELAYGATE_CONFIG: '' } });
  const ok = async (...args: string[]) => {
    const result = await cli(...args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const fails = async (args: string[], stderr: string) => {
    const result = await cli(...args);
    assert.equal(result.code, 1, args.join(' '));
    assert.equal(result.stderr, `relaygate: ${stderr}\n`);
  };

  before(async () => {
    await ok('account', 'create', '--id', ACCOUNT);
  });

  test('identity create prints the records to publish; --verified is logged as the operator\'s word', async () => {
    const created = await cli('identity', 'create', 'Example.COM', '--account', ACCOUNT, '--ed25519', '--mail-from', 'bounce.example.com');
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^Identity +example\.com$/m);
    assert.match(created.stdout, /^VerificationStatus +Pending$/m);
    assert.match(created.stdout, /^rg[0-9a-f]{10}\._domainkey\.example\.com\. TXT "v=DKIM1; k=rsa; p=MIIB/m);
    assert.match(created.stdout, /^rg[0-9a-f]{10}\._domainkey\.example\.com\. TXT "v=DKIM1; k=ed25519; p=[A-Za-z0-9+/]{43}="$/m);
    assert.match(created.stdout, /^_relaygate\.example\.com\. TXT "relaygate-verification=[0-9a-f]{32}"$/m);
    assert.match(created.stdout, /^bounce\.example\.com\. MX "10 \S+"$/m);
    assert.match(created.stdout, /^bounce\.example\.com\. TXT "v=spf1 /m);
    assert.match(created.stdout, /relaygate identity verify example\.com --account 123456789012/);

    const verified = await cli('identity', 'create', 'owned.example', '--account', ACCOUNT, '--verified', '--json');
    assert.equal((JSON.parse(verified.stdout) as { VerificationStatus: string; VerifiedBy: string }).VerificationStatus, 'Success');
    const audit = JSON.parse(verified.stderr) as { msg: string; identity: string };
    assert.deepEqual([audit.msg, audit.identity], ['identity marked verified by the operator (no DNS check)', 'owned.example']);
  });

  test('bring-your-own DKIM key and selector', async () => {
    const path = join(tempDir(), 'dkim.pem');
    writeFileSync(path, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs1', format: 'pem' }));
    const identity = JSON.parse(await ok('identity', 'create', 'byo.example', '--account', ACCOUNT, '--dkim-private-key', path, '--dkim-selector', 'mail2026', '--json')) as {
      DkimOrigin: string;
      DnsRecords: Array<{ Name: string }>;
    };
    assert.equal(identity.DkimOrigin, 'EXTERNAL');
    assert.equal(identity.DnsRecords[0]!.Name, 'mail2026._domainkey.byo.example');
  });

  test('email identities are confirmed with their token', async () => {
    const identity = JSON.parse(await ok('identity', 'create', 'Alice@Example.org', '--account', ACCOUNT, '--json')) as { Identity: string };
    assert.equal(identity.Identity, 'Alice@example.org');
    await fails(['identity', 'confirm', 'Alice@example.org', 'wrong', '--account', ACCOUNT], 'that is not the confirmation token of Alice@example.org');
    const renewed = await ok('identity', 'verify', 'Alice@example.org', '--account', ACCOUNT);
    const messageId = /^new confirmation token for Alice@example\.org \(valid 24 hours\) sent in message (\S+)$/.exec(renewed.trim())?.[1];
    assert.ok(messageId, renewed);
    const queue = SqliteQueueStore.open(dataDir);
    const queued = queue.get(messageId)!;
    queue.close();
    assert.deepEqual(queued.recipients, ['Alice@example.org']);
    const token = /relaygate identity confirm Alice@example\.org ([0-9a-f]{32}) --account/.exec(queued.body!.toString())?.[1];
    assert.ok(token);
    assert.equal(await ok('identity', 'confirm', 'Alice@example.org', token, '--account', ACCOUNT), 'Alice@example.org is verified\n');
    const listed = JSON.parse(await ok('identity', 'list', '--account', ACCOUNT, '--json')) as Array<{ Identity: string; VerificationStatus: string }>;
    assert.deepEqual(listed.find((entry) => entry.Identity === 'Alice@example.org')?.VerificationStatus, 'Success');
  });

  test('identity errors', async () => {
    await fails(['identity', 'create', 'localhost', '--account', ACCOUNT], '"localhost" is not a valid domain name (labels of at most 63 letters, digits or hyphens, 253 characters in all)');
    await fails(['identity', 'create', 'shop.example', '--account', ACCOUNT, '--mail-from', 'mail.other.example'], 'the MAIL FROM domain mail.other.example must be a subdomain of shop.example');
    await fails(['identity', 'create', 'example.com', '--account', ACCOUNT], 'identity example.com already exists');
    await fails(['identity', 'show', 'nothing.example', '--account', ACCOUNT], `identity nothing.example in account ${ACCOUNT} does not exist`);
  });

  test('configuration sets', async () => {
    const created = JSON.parse(
      await ok('configset', 'create', 'Marketing_1', '--account', ACCOUNT, '--tls-policy', 'require', '--suppressed-reasons', 'BOUNCE,COMPLAINT', '--event-destination', 'hooks:SEND,BOUNCE:https://example.com/events', '--json'),
    ) as Record<string, unknown>;
    assert.deepEqual(
      { tls: created.TlsPolicy, reasons: created.SuppressedReasons, destinations: created.EventDestinations, sending: created.SendingEnabled },
      { tls: 'Require', reasons: ['BOUNCE', 'COMPLAINT'], destinations: [{ Name: 'hooks', Enabled: true, MatchingEventTypes: ['SEND', 'BOUNCE'], Target: 'https://example.com/events', IncludeOriginalHeaders: true }], sending: true },
    );
    await fails(['configset', 'create', 'bad name', '--account', ACCOUNT], `configuration set name "bad name" must be 1-64 letters, digits, '-' or '_'`);
    await fails(['configset', 'create', 'x', '--account', ACCOUNT, '--tls-policy', 'maybe'], '--tls-policy must be Require or Optional, got "maybe"');
    await fails(['configset', 'create', 'x', '--account', ACCOUNT, '--sending-pool', 'dedicated'], 'sending pool "dedicated" is not configured (delivery.pools has: none)');
    await fails(['configset', 'create', 'x', '--account', ACCOUNT, '--event-destination', 'hooks:OPENED:https://x'], 'unknown event type OPENED; use SEND, REJECT, BOUNCE, COMPLAINT, DELIVERY, OPEN, CLICK, RENDERING_FAILURE, DELIVERY_DELAY, SUBSCRIPTION');
    assert.equal(await ok('configset', 'delete', 'Marketing_1', '--account', ACCOUNT), 'deleted configuration set Marketing_1\n');
    await fails(['configset', 'show', 'Marketing_1', '--account', ACCOUNT], 'configuration set Marketing_1 does not exist');
  });

  test('policies are validated before they are stored', async () => {
    const dir = tempDir();
    const write = (name: string, document: unknown) => {
      const path = join(dir, name);
      writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document));
      return path;
    };
    await fails(['policy', 'put', 'p', '--account', ACCOUNT, '--user', 'app', '--file', write('effect.json', { Statement: [{ Effect: 'Permit', Action: 'ses:SendRawEmail', Resource: '*' }] })], 'Statement[0].Effect must be "Allow" or "Deny"');
    await fails(
      ['policy', 'put', 'p', '--account', ACCOUNT, '--identity', 'example.com', '--file', write('principal.json', { Statement: [{ Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com` }] })],
      'Statement[0]: identity policies need a Principal',
    );
    await fails(['policy', 'put', 'bad name', '--account', ACCOUNT, '--user', 'app', '--file', write('ok.json', { Statement: [{ Effect: 'Allow', Action: 'ses:SendRawEmail', Resource: '*' }] })], `policy name "bad name" must be 1-64 letters, digits, '-' or '_'`);
    await fails(['policy', 'list', '--account', ACCOUNT], 'give exactly one of --user (an IAM policy) and --identity (a sending authorization policy)');
    await ok('policy', 'put', 'send', '--account', ACCOUNT, '--user', 'app', '--file', join(dir, 'ok.json'));
    const listed = JSON.parse(await ok('policy', 'get', 'send', '--account', ACCOUNT, '--user', 'app', '--json')) as { Policy: unknown };
    assert.deepEqual(listed.Policy, { Statement: [{ Effect: 'Allow', Action: ['ses:SendRawEmail'], Resource: ['*'] }] });
  });

  test('quota and account limits', async () => {
    const limits = async () => {
      const shown = JSON.parse(await ok('account', 'show', ACCOUNT, '--json')) as Record<string, unknown>;
      return [shown.Sandbox, shown.MaxSendRate, shown.Max24HourSend, shown.ProductionMaxSendRate, shown.ProductionMax24HourSend];
    };
    assert.deepEqual(JSON.parse(await ok('quota', ACCOUNT, '--json')), { Max24HourSend: 200, MaxSendRate: 1, SentLast24Hours: 0 }, 'the sandbox limits');
    assert.deepEqual(await limits(), [true, 1, 200, 14, 50000], 'account show: the sandbox limits in force, and those that apply out of it');
    assert.match(await ok('account', 'show', ACCOUNT), /\nMaxSendRate +1\nMax24HourSend +200\n/);
    await ok('account', 'update', ACCOUNT, '--sandbox', 'false', '--max-send-rate', '50', '--max-24h-send', '100000');
    assert.deepEqual(JSON.parse(await ok('quota', ACCOUNT, '--json')), { Max24HourSend: 100000, MaxSendRate: 50, SentLast24Hours: 0 });
    assert.deepEqual(await limits(), [false, 50, 100000, 50, 100000]);
    await fails(['quota', '999999999999'], 'account 999999999999 does not exist');
  });
});
