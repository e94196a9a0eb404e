import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cli } from '../support/cli-runner.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { messageText } from '../support/message-text.js';
import { deleteKeysUnder, TEST_REDIS_URL, uniqueKeyPrefix } from '../support/redis-keys.js';
import { sessionWorkers, whileStopped } from '../support/session-workers.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE_FRESH_MS } from '../../src/store/cached-control-store.js';

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
    gateway = await startGatewayProcess({ config: { smtp: { workers: 2 }, cluster: { redisUrl: TEST_REDIS_URL, keyPrefix } }, listen: ['127.0.0.1:0=tls'] });
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
    // The worker that took the first session may reuse its copy of the credential for CACHE_FRESH_MS (README: a change
    // takes effect on every node within that time); after it, every worker reads it again.
    await sleep(CACHE_FRESH_MS);
    assert.deepEqual(await submit(gateway, created.AccessKeyId, created.SmtpPassword), { auth: '535 Authentication Credentials Invalid' });
    assert.equal(existsSync(join(gateway.dataDir, 'control.db')), false, 'the gateway never opened an embedded control store');
    assert.equal(existsSync(join(cliDir, 'control.db')), false);
  });

  test('each session worker charges the send limits in Redis itself, and the account quota holds across the workers', async () => {
    const QUOTA_ACCOUNT = '777788880000';
    await onRedis('account', 'create', '--id', QUOTA_ACCOUNT);
    await onRedis('account', 'update', QUOTA_ACCOUNT, '--sandbox', 'false', '--max-24h-send', '2');
    await onRedis('identity', 'create', 'example.com', '--account', QUOTA_ACCOUNT, '--verified', '--no-dkim');
    const created = JSON.parse(await onRedis('credentials', 'create', '--account', QUOTA_ACCOUNT, '--json')) as { AccessKeyId: string; SmtpPassword: string };
    const workers = sessionWorkers(gateway.child.pid!);
    assert.equal(workers.length, 2, `session workers: ${workers.join(', ')}`);
    const send = async () => (await submit(gateway, created.AccessKeyId, created.SmtpPassword)).data ?? '';
    // One message through each worker (the other stopped meanwhile), then a third through either.
    const replies = [await whileStopped([workers[0]!], send), await whileStopped([workers[1]!], send), await send()];
    assert.match(replies[0]!, /^250 Ok \S+$/);
    assert.match(replies[1]!, /^250 Ok \S+$/);
    assert.equal(replies[2], '454 Throttling failure: Daily message quota exceeded');

    // The workers' own connections ran the limiter's script; the primary's did not (its last command is not one).
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const limiterClients = ((await redis.client('LIST')) as string).split('\n').filter((line) => / name=relaygate-send-limits /.test(line));
      const scripted = limiterClients.filter((line) => / cmd=eval(sha)? /.test(line));
      assert.ok(limiterClients.length >= 3, limiterClients.join('\n'));
      assert.equal(scripted.length, 2, limiterClients.join('\n'));
    } finally {
      redis.disconnect();
    }
    // Each check is timed where the session waited for it, and reaches the primary's metrics.
    // The workers pass their counts on every 200 ms; one check is the test above's.
    let checks: string | undefined;
    for (const deadline = Date.now() + 5000; checks !== '4' && Date.now() < deadline; await sleep(100)) {
      checks = /^relaygate_send_limit_check_seconds_count (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${gateway.metricsPort}/metrics`)).text())?.[1];
    }
    assert.equal(checks, '4');
  });
});
