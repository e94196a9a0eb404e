import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE_FRESH_MS } from '../../../src/store/cached-control-store.js';
import { cliJson } from '../../support/cli-runner.js';
import { startSinks, submit, testDeliveryConfig, waitForFinal } from '../../support/delivery-fixture.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../../support/gateway-process.js';
import { provisionCredential, type ClusterStore, type TestCredential } from '../../support/provision.js';
import type { SinkMx } from '../../support/sink-mx.js';
import { testKeySpace, TEST_REDIS_URL } from '../../support/test-redis.js';

// Two nodes on one Redis; node A's mail bounces, its reputation pauses the account, and node B stops sending too.
const space = testKeySpace('auto-pause');
const cluster: ClusterStore = { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix, secretKeyFile: join(tempDir('relaygate-cluster-'), 'secret.key') };
const ACCOUNT = '310987654321';
const PAUSED = '554 Message rejected: Account is paused';
let dns: TestDnsServer;
let sink: SinkMx;
let nodeA: GatewayProcess;
let nodeB: GatewayProcess;
let credential: TestCredential;

before(async () => {
  [sink] = (await startSinks([
    { host: '127.0.0.3', behaviour: (ctx) => (ctx.stage === 'RCPT' && ctx.recipient.startsWith('unknown@') ? '550 5.1.1 User unknown' : 'accept') },
  ])) as [SinkMx];
  dns = await startDnsServer({ 'bounce.test': { MX: [{ exchange: 'mx.bounce.test', priority: 10 }] }, 'mx.bounce.test': { A: ['127.0.0.3'] } });
  const config = {
    ...testDeliveryConfig(dns, sink.port),
    cluster: { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix },
    // Every recipient counts: two hard bounces in three recipients are far past the guide's 10 % pause rate.
    reputation: { autoPause: 'account', minimumVolume: 3 },
  };
  nodeA = await startGatewayProcess({ listen: ['127.0.0.1:0=tls'], config });
  nodeB = await startGatewayProcess({ listen: ['127.0.0.1:0=tls'], config });
  credential = await provisionCredential(cluster, { accountId: ACCOUNT });
});
after(async () => {
  await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  await Promise.all([sink?.close(), dns?.close()]);
  await space.cleanUp();
});

/** Sends one message to `to` through `node`: `250 Ok ID`, or the reply to the end of data that refused it. */
function send(node: GatewayProcess, to: string): Promise<string> {
  return submit(node, credential, { to: [to] }).then(
    (id) => `250 Ok ${id}`,
    (error: Error) => error.message.replace(/^message refused: .* \/ /, ''),
  );
}

test('hard bounces on one node pause the account; every node refuses its mail within seconds', async () => {
  const delivered = await send(nodeB, 'someone@bounce.test');
  assert.match(delivered, /^250 Ok \S+$/);
  assert.equal((await waitForFinal(nodeB.dataDir, delivered.slice('250 Ok '.length))).deliveries[0]!.state, 'delivered');

  for (const recipient of ['unknown@bounce.test', 'unknown@bounce.test']) {
    const accepted = await send(nodeA, recipient);
    assert.match(accepted, /^250 Ok \S+$/);
    assert.equal((await waitForFinal(nodeA.dataDir, accepted.slice('250 Ok '.length))).deliveries[0]!.state, 'bounced');
  }
  // Node A's statistics consumer judges the account and pauses it in Redis (read with the node's configuration: its
  // Redis and key prefix).
  const showAccount = () => cliJson<{ SendingEnabled: boolean }>(nodeA.dataDir, '--config', join(nodeA.dataDir, 'relaygate.yaml'), 'account', 'show', ACCOUNT);
  const statusDeadline = Date.now() + 10_000;
  let account = await showAccount();
  while (account.SendingEnabled && Date.now() < statusDeadline) {
    await sleep(100);
    account = await showAccount();
  }
  assert.equal(account.SendingEnabled, false, 'the account is paused in the shared control plane');
  const pausedAt = Date.now();

  // Each node (each session worker) keeps what it read of the account for CACHE_FRESH_MS, then asks Redis again:
  // node A, which paused it, as well as node B.
  for (const [name, node] of [['node B', nodeB], ['node A', nodeA]] as const) {
    let reply = await send(node, 'someone@bounce.test');
    while (reply !== PAUSED && Date.now() - pausedAt < CACHE_FRESH_MS + 3000) reply = await send(node, 'someone@bounce.test');
    assert.equal(reply, PAUSED, `${name} refuses`);
  }
  assert.ok(Date.now() - pausedAt < CACHE_FRESH_MS + 3000, `both refuse ${Date.now() - pausedAt} ms after the pause`);
});
