import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { cliJson } from '../../support/cli-runner.js';
import { submit } from '../../support/delivery-fixture.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../../support/gateway-process.js';
import { provisionCredential, type ClusterStore, type TestCredential } from '../../support/provision.js';
import { testKeySpace, TEST_REDIS_URL } from '../../support/test-redis.js';

// Two gateway processes on one Redis (their control plane too), each with its own data directory.
const space = testKeySpace('fleet-smtp');
const cluster: ClusterStore = { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix, secretKeyFile: join(tempDir('relaygate-cluster-'), 'secret.key') };
const nodes: GatewayProcess[] = [];
const RATE_ACCOUNT = '210987654321';
const QUOTA_ACCOUNT = '210987654322';
let rateLimited: TestCredential;
let quotaLimited: TestCredential;

before(async () => {
  for (let i = 0; i < 2; i++) nodes.push(await startGatewayProcess({ listen: ['127.0.0.1:0=tls'], config: { cluster: { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix } } }));
  // One recipient every 20 seconds: the second message within a test is always over the rate.
  rateLimited = await provisionCredential(cluster, { accountId: RATE_ACCOUNT, account: { maxSendRate: 0.05 } });
  quotaLimited = await provisionCredential(cluster, { accountId: QUOTA_ACCOUNT, account: { max24HourSend: 2 } });
});
after(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await space.cleanUp();
});

/** Sends one message with one recipient: its id, or the reply that refused it. */
function send(gateway: GatewayProcess, credential: TestCredential): Promise<string> {
  return submit(gateway, credential, { to: ['someone@example.org'] }).then(
    (id) => `250 Ok ${id}`,
    (error: Error) => error.message.replace(/^message refused: .* \/ /, ''),
  );
}

test('an account’s rate and quota hold across nodes, and `relaygate quota` shows the fleet’s count', async () => {
  assert.match(await send(nodes[0]!, rateLimited), /^250 Ok \S+$/);
  assert.equal(await send(nodes[1]!, rateLimited), '454 Throttling failure: Maximum sending rate exceeded');

  assert.match(await send(nodes[0]!, quotaLimited), /^250 Ok \S+$/);
  assert.match(await send(nodes[1]!, quotaLimited), /^250 Ok \S+$/);
  assert.equal(await send(nodes[0]!, quotaLimited), '454 Throttling failure: Daily message quota exceeded');
  assert.equal(await send(nodes[1]!, quotaLimited), '454 Throttling failure: Daily message quota exceeded');
  // The node's configuration gives the key prefix; --redis names the Redis as an operator would.
  const quota = await cliJson<Record<string, number>>(nodes[1]!.dataDir, '--config', join(nodes[1]!.dataDir, 'relaygate.yaml'), '--redis', TEST_REDIS_URL, 'quota', QUOTA_ACCOUNT);
  assert.equal(quota.SentLast24Hours, 2);
});
