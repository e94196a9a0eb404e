import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deriveSmtpPassword } from '../../src/auth/smtp-password.js';
import { RELAYGATE_BIN, startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { run } from '../support/external-tools.js';
import { cli, cliJson } from '../support/cli-runner.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { messageText } from '../support/message-text.js';

const EXAMPLE_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';

async function authReply(gateway: GatewayProcess, user: string, password: string): Promise<string> {
  const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
  await dialog.reply();
  await dialog.ehlo();
  const reply = await dialog.authPlain(user, password);
  dialog.close();
  return reply;
}

describe('relaygate CLI', () => {
  let dataDir: string;
  let gateway: GatewayProcess;
  let accountId: string;

  before(async () => {
    dataDir = tempDir();
    gateway = await startGatewayProcess({ dataDir, listen: ['127.0.0.1:0=tls'] });
  });
  after(() => gateway.stop());

  test('account create: a 12-digit id, in the sandbox', async () => {
    const account = await cliJson<{ AccountId: string; Sandbox: boolean; SendingEnabled: boolean }>(dataDir, 'account', 'create');
    assert.match(account.AccountId, /^\d{12}$/);
    assert.equal(account.Sandbox, true);
    assert.equal(account.SendingEnabled, true);
    accountId = account.AccountId;
    const text = await cli(dataDir, 'account', 'create', '--id', '111122223333');
    assert.equal(text.stdout, 'created account 111122223333 (in the sandbox)\n');
    const again = await cli(dataDir, 'account', 'create', '--id', '111122223333');
    assert.equal(again.code, 1);
    assert.equal(again.stderr, 'relaygate: account 111122223333 already exists\n');
    const bad = await cli(dataDir, 'account', 'create', '--id', '123');
    assert.equal(bad.stderr, 'relaygate: --id must be 12 digits, got "123"\n');
  });

  test('credentials create prints the password once; it authenticates; list never shows it; revoke stops it', async () => {
    const created = await cliJson<{ AccessKeyId: string; SecretAccessKey: string; SmtpPassword: string; Region: string; Status: string }>(
      dataDir, 'credentials', 'create', '--account', accountId,
    );
    assert.match(created.AccessKeyId, /^AKIA[A-Z2-7]{16}$/);
    assert.equal(created.SmtpPassword, deriveSmtpPassword(created.SecretAccessKey, 'us-east-1'));
    assert.equal(created.Status, 'Active');
    assert.equal(await authReply(gateway, created.AccessKeyId, created.SmtpPassword), '235 Authentication successful');

    const listed = await cli(dataDir, 'credentials', 'list', '--account', accountId, '--json');
    assert.ok(!listed.stdout.includes(created.SmtpPassword) && !listed.stdout.includes(created.SecretAccessKey));
    const entries = JSON.parse(listed.stdout) as Array<{ AccessKeyId: string; Status: string }>;
    assert.deepEqual(entries.map((entry) => [entry.AccessKeyId, entry.Status]), [[created.AccessKeyId, 'Active']]);

    const revoked = await cli(dataDir, 'credentials', 'revoke', created.AccessKeyId);
    assert.equal(revoked.stdout, `revoked ${created.AccessKeyId}\n`);
    assert.equal(await authReply(gateway, created.AccessKeyId, created.SmtpPassword), '535 Authentication Credentials Invalid');
    const listedAfter = await cliJson<Array<{ Status: string }>>(dataDir, 'credentials', 'list', '--account', accountId);
    assert.equal(listedAfter[0]!.Status, 'Revoked');
  });

  test('credentials import keeps an existing SES user name and password working (from the secret, or the SMTP password itself)', async () => {
    await cliJson(dataDir, 'credentials', 'import', '--account', accountId, '--access-key-id', 'AKIAIOSFODNN7EXAMPLE', '--secret-access-key', EXAMPLE_SECRET);
    assert.equal(await authReply(gateway, 'AKIAIOSFODNN7EXAMPLE', 'BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9'), '235 Authentication successful');
    assert.equal(await authReply(gateway, 'AKIAIOSFODNN7EXAMPLE', 'BF2PynzbSCAjX08zhZZnP/kW+T9P5zs/1Er0pi5vTEmd'), '535 Authentication Credentials Invalid', "us-west-2's password");

    const password = deriveSmtpPassword('another-secret', 'us-east-1');
    const imported = await cli(dataDir, 'credentials', 'import', '--account', accountId, '--access-key-id', 'AKIAEXAMPLE000000002', '--smtp-password', password);
    assert.equal(
      imported.stdout,
      `imported AKIAEXAMPLE000000002 for account ${accountId} (region us-east-1); SMTP only: the HTTP API needs the secret access key (import with --secret-access-key)\n`,
    );
    assert.equal(await authReply(gateway, 'AKIAEXAMPLE000000002', password), '235 Authentication successful');
  });

  test('credential errors are one clear line', async () => {
    const cases: Array<[string[], string]> = [
      [['credentials', 'create', '--account', '999999999999'], 'relaygate: account 999999999999 does not exist\n'],
      [['credentials', 'import', '--account', accountId, '--access-key-id', 'AKIAEXAMPLE000000003'], 'relaygate: give exactly one of --secret-access-key and --smtp-password\n'],
      [['credentials', 'import', '--account', accountId, '--access-key-id', 'ASIAEXAMPLE000000003', '--secret-access-key', 'x'], 'relaygate: temporary (ASIA…) credentials cannot be used for SMTP, as in SES\n'],
      [['credentials', 'import', '--account', accountId, '--access-key-id', 'AKIAEXAMPLE000000003', '--smtp-password', 'An60U4ZD3sd4fg+FvXUjayOipTt8LO4rUUmhpdX6ctDy'], 'relaygate: --smtp-password is not an SES version 4 SMTP password (44 base64 characters starting with B); re-derive it with `relaygate smtp-password SECRET REGION`\n'],
      [['credentials', 'revoke', 'AKIANOSUCHKEY0000000'], 'relaygate: credential AKIANOSUCHKEY0000000 does not exist\n'],
    ];
    for (const [args, stderr] of cases) {
      const result = await cli(dataDir, ...args);
      assert.equal(result.code, 1, args.join(' '));
      assert.equal(result.stderr, stderr);
    }
  });

  test('smtp-password prints only the password, like the guide script', async () => {
    const result = await cli(dataDir, 'smtp-password', EXAMPLE_SECRET, 'us-west-2');
    assert.equal(result.stdout, 'BF2PynzbSCAjX08zhZZnP/kW+T9P5zs/1Er0pi5vTEmd\n');
  });

  test('queue list shows accepted messages with id, account, sender, recipients, size and time', async () => {
    assert.equal((await cli(dataDir, 'account', 'update', accountId, '--sandbox', 'false')).code, 0);
    assert.equal((await cli(dataDir, 'identity', 'create', 'example.com', '--account', accountId, '--verified')).code, 0);
    const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    await dialog.reply();
    await dialog.ehlo();
    assert.equal(await dialog.authPlain('AKIAIOSFODNN7EXAMPLE', 'BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9'), '235 Authentication successful');
    dialog.write('MAIL FROM:<sender@example.com>\r\nRCPT TO:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n');
    await dialog.line();
    await dialog.line();
    await dialog.line();
    await dialog.line();
    dialog.write(`${messageText()}.\r\n`);
    const messageId = /^250 Ok (\S+)$/.exec(await dialog.line())?.[1];
    dialog.close();
    const queued = await cliJson<Array<Record<string, unknown>>>(dataDir, 'queue', 'list');
    const entry = queued.find((message) => message.MessageId === messageId);
    assert.ok(entry);
    assert.equal(entry.AccountId, accountId);
    assert.equal(entry.MailFrom, 'sender@example.com');
    assert.deepEqual(entry.Recipients, ['a@example.org', 'b@example.org']);
    assert.equal(typeof entry.Size, 'number');
    assert.match(String(entry.ReceivedAt), /^\d{4}-\d{2}-\d{2}T/);
    const text = await cli(dataDir, 'queue', 'list');
    assert.match(text.stdout.split('\n')[0]!, /^MESSAGE ID\s+ACCOUNT\s+FROM\s+RECIPIENTS\s+SIZE\s+RECEIVED/);
  });

  test('a configuration mistake names the option', async () => {
    const path = join(tempDir(), 'bad.yaml');
    writeFileSync(path, 'smtp:\n  maxRecipents: 10\n');
    const result = await run(process.execPath, [RELAYGATE_BIN, '--config', path, 'account', 'list']);
    assert.equal(result.code, 1);
    assert.equal(result.stderr, 'relaygate: configuration option smtp.maxRecipents: unknown option\n');
  });

  test('every command has --help', async () => {
    for (const args of [[], ['serve'], ['account'], ['account', 'create'], ['credentials'], ['credentials', 'import'], ['smtp-password'], ['queue', 'list']]) {
      const result = await run(process.execPath, [RELAYGATE_BIN, ...args, '--help']);
      assert.equal(result.code, 0, args.join(' '));
      assert.match(result.stdout, /^Usage: relaygate/);
    }
  });
});
