import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cli } from '../support/cli-runner.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { messageText } from '../support/message-text.js';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueKeyPrefix } from '../support/redis-keys.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const ACCOUNT = '777788889999';

/** AUTH PLAIN, then (when it succeeds) one message from sender@example.com; the last reply line of AUTH and of the data. */
async function submit(gateway: GatewayProcess, user: string, password: string): Promise<{ auth: string; data?: string }> {
  const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
  try {
    await dialog.reply();
    await dialog.ehlo();
    const auth = await dialog.authPlain(user, password);
    if (!auth.startsWith('235')) return { auth };
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    assert.equal(await dialog.command('RCPT TO:<recipient@example.org>'), '250 Ok');
    assert.equal(await dialog.command('DATA'), '354 End data with <CR><LF>.<CR><LF>');
    dialog.write(`${messageText()}.\r\n`);
    return { auth, data: await dialog.line() };
  } finally {
    dialog.close();
  }
}

describe('a gateway with cluster.redisUrl', () => {
  const keyPrefix = uniqueKeyPrefix('cluster-gateway');
  const cliDir = tempDir();
  const configFile = join(cliDir, 'relaygate.yaml');
  writeFileSync(configFile, stringify({ cluster: { redisUrl: TEST_REDIS_URL, keyPrefix } }));
  /** A command of an operator on another machine, sharing only the Redis with the gateway. */
  const onRedis = async (...args: string[]) => {
    const result = await cli(cliDir, '--config', configFile, ...args);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  let gateway: GatewayProcess;

  before(async () => {
    gateway = await startGatewayProcess({ config: { cluster: { redisUrl: TEST_REDIS_URL, keyPrefix } }, listen: ['127.0.0.1:0=tls'] });
  });
  after(async () => {
    await gateway.stop();
    await deleteKeysUnder(keyPrefix);
  });

  test('accepts mail from a credential created only in Redis, and refuses it once revoked there', async () => {
    await onRedis('account', 'create', '--id', ACCOUNT);
    await onRedis('account', 'update', ACCOUNT, '--sandbox', 'false');
    await onRedis('identity', 'create', 'example.com', '--account', ACCOUNT, '--verified', '--no-dkim');
    const created = JSON.parse(await onRedis('credentials', 'create', '--account', ACCOUNT, '--json')) as { AccessKeyId: string; SmtpPassword: string };
    const sent = await submit(gateway, created.AccessKeyId, created.SmtpPassword);
    assert.equal(sent.auth, '235 Authentication successful');
    assert.match(sent.data ?? '', /^250 Ok \S+$/);
    assert.equal(await onRedis('credentials', 'revoke', created.AccessKeyId), `revoked ${created.AccessKeyId}\n`);
    assert.deepEqual(await submit(gateway, created.AccessKeyId, created.SmtpPassword), { auth: '535 Authentication Credentials Invalid' });
    assert.equal(existsSync(join(gateway.dataDir, 'control.db')), false, 'the gateway never opened an embedded control store');
    assert.equal(existsSync(join(cliDir, 'control.db')), false);
  });
});
