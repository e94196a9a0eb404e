import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startLoopbackDestination, type LoopbackDestination } from '../../../bench/loopback-destination.js';
import { assertAckedDeliveredOnce, submitToEachNode } from '../../support/fleet-submissions.js';
import { waitForEmptyQueues } from '../../support/delivery-fixture.js';
import { startGatewayProcess, startGatewayProcesses, tempDir, type GatewayProcess, type GatewayProcessOptions } from '../../support/gateway-process.js';
import { provisionCredential, type ClusterStore, type TestCredential } from '../../support/provision.js';
import type { SinkReply } from '../../support/sink-mx.js';
import { testKeySpace, TEST_REDIS_URL } from '../../support/test-redis.js';
import { waitUntil } from '../../support/wait-until.js';

const NODE_IDS = ['nodea', 'nodeb', 'nodec'] as const;
const VICTIM = 2;
const RECIPIENT_DOMAIN = 'inbox.test';
/** Acknowledged messages each node's clients must see in each phase (before the kill; after it, for the others). */
const ACKS_PER_PHASE = 5;

const space = testKeySpace('fleet-sigkill');
const cluster: ClusterStore = { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix, secretKeyFile: join(tempDir('relaygate-cluster-'), 'secret.key') };
let destination: LoopbackDestination;
let nodes: GatewayProcess[] = [];
let credential: TestCredential;

/**
 * The victim's deliveries wait at RCPT until it has been killed: it dies with delivery connections open in the middle
 * of a transaction and deliveries leased in its queue, but without a message the MX has taken and it has not yet
 * recorded. That one case can only be delivered twice (RFC 5321 6.1; bench/crash-trial.ts measures it), so here
 * every acknowledged message must arrive exactly once. Its return path names it: b-<node id>-….
 */
let holdingVictim = true;
let victimRcptsHeld = 0;
const neverAnswered = new Promise<SinkReply>(() => undefined);

const nodeOptions = (nodeId: string, dataDir?: string): GatewayProcessOptions => ({
  ...(dataDir ? { dataDir } : {}),
  listen: ['127.0.0.1:0=starttls'],
  // Short leases: the fleet's connection slots the victim held lapse soon after its death.
  config: { ...destination.gatewayConfig(), cluster: { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix, nodeId, leaseSeconds: 3 } },
});

before(async () => {
  destination = await startLoopbackDestination(RECIPIENT_DOMAIN, (ctx) => {
    if (ctx.stage !== 'RCPT' || !holdingVictim || !ctx.mailFrom.startsWith(`b-${NODE_IDS[VICTIM]}-`)) return 'accept';
    victimRcptsHeld++;
    return neverAnswered;
  });
  nodes = await startGatewayProcesses(NODE_IDS.map((nodeId) => nodeOptions(nodeId)));
  credential = await provisionCredential(cluster);
});
after(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await destination?.close();
  await space.cleanUp();
});

test('a node SIGKILLed under load: the others go on accepting, and after its restart every message any node acknowledged arrives exactly once', async () => {
  const stopLoad = new AbortController();
  const { loads, finished } = submitToEachNode(nodes, credential, RECIPIENT_DOMAIN, stopLoad.signal);
  try {
    await waitUntil(() => loads.every((load) => load.acked.size >= ACKS_PER_PHASE) && victimRcptsHeld > 0, 'every node acknowledging mail and the victim delivering');
    const victim = nodes[VICTIM]!;
    await victim.kill();
    const acksAtKill = loads.map((load) => load.acked.size);
    await waitUntil(
      () => loads.every((load, index) => index === VICTIM || load.acked.size >= acksAtKill[index]! + ACKS_PER_PHASE),
      'the other nodes acknowledging mail after the kill',
    );
    stopLoad.abort();
    await finished;
    for (const [index, load] of loads.entries()) if (index !== VICTIM) assert.deepEqual(load.refused, new Map(), `${NODE_IDS[index]} refused nothing`);

    // The dead process can hold nothing back any more; the restarted one must not be held.
    holdingVictim = false;
    nodes[VICTIM] = await startGatewayProcess(nodeOptions(NODE_IDS[VICTIM], victim.dataDir));
  } finally {
    stopLoad.abort();
  }
  // A message leaves its queue once the sink's 250 is recorded, so then the sink has all there will be.
  await waitForEmptyQueues(nodes.map((node) => node.dataDir));
  assertAckedDeliveredOnce(loads, destination.sink.messages);
});
