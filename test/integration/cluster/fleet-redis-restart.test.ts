import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startLoopbackDestination, type LoopbackDestination } from '../../../bench/loopback-destination.js';
import { assertAckedDeliveredOnce, submitToEachNode } from '../../support/fleet-submissions.js';
import { waitForEmptyQueues } from '../../support/delivery-fixture.js';
import { startGatewayProcesses, tempDir, type GatewayProcess } from '../../support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../../support/provision.js';
import { startTestRedis, type TestRedis } from '../../support/redis-server.js';
import { waitUntil } from '../../support/wait-until.js';

const NODE_IDS = ['nodea', 'nodeb'];
const KEY_PREFIX = 'relaygate-restart-test:';
const RECIPIENT_DOMAIN = 'inbox.test';
/** Short, so that the outage outlasts it and the refusals past it show. */
const GRACE_SECONDS = 2;
const PAST_THE_GRACE = '451 4.3.0 Temporary service failure';
/** Acknowledged messages each node's clients must see before the outage and after it. */
const ACKS_PER_PHASE = 5;

let redis: TestRedis;
let destination: LoopbackDestination;
let nodes: GatewayProcess[] = [];
let credential: TestCredential;

before(async () => {
  redis = await startTestRedis();
  destination = await startLoopbackDestination(RECIPIENT_DOMAIN);
  nodes = await startGatewayProcesses(
    NODE_IDS.map((nodeId) => ({
      listen: ['127.0.0.1:0=starttls'],
      config: { ...destination.gatewayConfig(), cluster: { redisUrl: redis.url, keyPrefix: KEY_PREFIX, nodeId, redisGraceSeconds: GRACE_SECONDS } },
    })),
  );
  credential = await provisionCredential({ redisUrl: redis.url, keyPrefix: KEY_PREFIX, secretKeyFile: join(tempDir('relaygate-cluster-'), 'secret.key') });
});
after(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await Promise.all([destination?.close(), redis?.stop()]);
});

test('Redis killed and started again under load: no node crashes, mail is accepted again after, and every acknowledged message arrives exactly once', async () => {
  const stopLoad = new AbortController();
  const { loads, finished } = submitToEachNode(nodes, credential, RECIPIENT_DOMAIN, stopLoad.signal);
  try {
    await waitUntil(() => loads.every((load) => load.acked.size >= ACKS_PER_PHASE), 'both nodes acknowledging mail');
    // A crash of Redis (its append-only file is written on every command, so it comes back with its data).
    await redis.stop('SIGKILL');
    // Within the grace a node still answers 250 from what it read before; past it, 451 until Redis answers again.
    await waitUntil(() => loads.every((load) => load.refused.has(PAST_THE_GRACE)), 'both nodes refusing mail past the grace', 30_000);
    const acksInOutage = loads.map((load) => load.acked.size);
    await redis.start();
    await waitUntil(() => loads.every((load, index) => load.acked.size >= acksInOutage[index]! + ACKS_PER_PHASE), 'both nodes acknowledging mail once Redis is back');
    stopLoad.abort();
    await finished;
  } finally {
    stopLoad.abort();
  }

  for (const [index, node] of nodes.entries()) {
    assert.deepEqual({ exitCode: node.child.exitCode, signal: node.child.signalCode }, { exitCode: null, signal: null }, `${NODE_IDS[index]} is still running`);
    assert.deepEqual(node.logs.filter((record) => String(record.msg).startsWith('session worker died')), [], `no session worker of ${NODE_IDS[index]} died`);
    assert.deepEqual([...loads[index]!.refused.keys()], [PAST_THE_GRACE], `${NODE_IDS[index]} refused mail only past the grace`);
  }
  // A message leaves its queue once the sink's 250 is recorded, so then the sink has all there will be.
  await waitForEmptyQueues(nodes.map((node) => node.dataDir));
  assertAckedDeliveredOnce(loads, destination.sink.messages);
});
