import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { benchMessage } from '../../../bench/bench-message.js';
import { runLoad } from '../../../bench/load-client.js';
import { gcraParameters } from '../../../src/ratelimit/gcra.js';
import { cliJson } from '../../support/cli-runner.js';
import { startGatewayProcesses, tempDir, type GatewayProcess } from '../../support/gateway-process.js';
import { provisionCredential, type ClusterStore, type TestCredential } from '../../support/provision.js';
import { testKeySpace, TEST_REDIS_URL } from '../../support/test-redis.js';

// Three gateway processes on one Redis (control plane and send limiter), each with its own data directory.
const space = testKeySpace('fleet-load');
const cluster: ClusterStore = { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix, secretKeyFile: join(tempDir('relaygate-cluster-'), 'secret.key') };
let nodes: GatewayProcess[] = [];

const SESSIONS_PER_NODE = 3;
const MESSAGES_PER_NODE = 60;
/** Each node is offered 20 messages a second for 3 seconds, the fleet 60/s: far above the rate, for long enough to see it. */
const INTERVAL_MS = 50;
const MESSAGE_BYTES = 1024;
const RATE = 5;
const QUOTA = 12;

before(async () => {
  nodes = await startGatewayProcesses(
    Array.from({ length: 3 }, () => ({ listen: ['127.0.0.1:0=starttls'], config: { cluster: { redisUrl: TEST_REDIS_URL, keyPrefix: space.prefix } } })),
  );
});
after(async () => {
  await Promise.all(nodes.map((node) => node.stop()));
  await space.cleanUp();
});

interface FleetLoad {
  accepted: number;
  /** Refused messages, by stage and reply, over the whole fleet. */
  refused: Map<string, number>;
  sessionErrors: Map<string, number>;
  /** From the first node's start (its sessions open) to the last 250, on this process's clock. */
  elapsedMs: number;
}

/** Every node's sessions sending one-recipient messages at once, each message at its time (open loop); the fleet's sum. */
async function fleetLoad(credential: TestCredential, tag: string): Promise<FleetLoad> {
  const results = await Promise.all(
    nodes.map((node, index) =>
      runLoad({
        targets: [{ host: '127.0.0.1', port: node.starttlsPorts[0]!, user: credential.user, password: credential.password, replyTimeoutMs: 15_000 }],
        message: benchMessage(MESSAGE_BYTES, 'example.com', 'inbox.test', `${tag}-${index}`),
        messages: MESSAGES_PER_NODE,
        connections: SESSIONS_PER_NODE,
        messagesPerConnection: MESSAGES_PER_NODE,
        openLoopIntervalMs: INTERVAL_MS,
      }),
    ),
  );
  const sum = (maps: Array<Map<string, number>>) => {
    const total = new Map<string, number>();
    for (const [key, count] of maps.flatMap((map) => [...map])) total.set(key, (total.get(key) ?? 0) + count);
    return total;
  };
  return {
    accepted: results.reduce((total, result) => total + result.accepted, 0),
    refused: sum(results.map((result) => result.failures)),
    sessionErrors: sum(results.map((result) => result.sessionErrors)),
    elapsedMs: Math.max(...results.map((result) => result.lastAcceptedAt)) - Math.min(...results.map((result) => result.startedAt)),
  };
}

const offered = () => nodes.length * MESSAGES_PER_NODE;

test('the fleet under concurrent load passes at most the rate over the elapsed time plus one burst, and refuses the rest for the rate', async () => {
  const credential = await provisionCredential(cluster, { account: { maxSendRate: RATE } });
  const load = await fleetLoad(credential, 'rate');
  assert.deepEqual(load.sessionErrors, new Map());
  assert.deepEqual(load.refused, new Map([['end of data: 454 Throttling failure: Maximum sending rate exceeded', offered() - load.accepted]]));
  // The bound, from src/ratelimit: the send-limits step asks with no burst of its own, so gcraParameters gives
  // burst = ceil(maxSendRate), emission interval e = 1000 / rate ms and a tolerance of (burst - 1) × e. The Redis
  // script runs gcraDecide's arithmetic on Redis's clock: a message passes while the account's theoretical arrival
  // time (TAT) is less than (burst - 1) × e + 0.5 ms (its rounding to whole ms) ahead of now, and each pass moves
  // the TAT on by e from at least the first pass's time t1. So the n-th pass, at tn, needs
  // t1 + (n - 1) × e - tn < (burst - 1) × e + 0.5, that is n < burst + (tn - t1 + 0.5) / e; and the first `burst`
  // of an idle account always pass. t1 and tn lie within the span measured here (one machine, one clock; TIME is
  // read in whole ms, hence 1 ms rather than 0.5).
  const { emissionMs, burstToleranceMs } = gcraParameters(RATE);
  const burst = burstToleranceMs / emissionMs + 1;
  assert.equal(burst, Math.ceil(RATE));
  const bound = burst + (load.elapsedMs + 1) / emissionMs;
  assert.ok(load.accepted >= burst && load.accepted < bound, `${load.accepted} accepted in ${load.elapsedMs.toFixed(0)} ms: at least ${burst}, fewer than ${bound.toFixed(2)}`);
});

test('the fleet under concurrent load accepts exactly max24HourSend recipients, and refuses the rest for the quota', async () => {
  const credential = await provisionCredential(cluster, { account: { max24HourSend: QUOTA } });
  const load = await fleetLoad(credential, 'quota');
  assert.deepEqual(load.sessionErrors, new Map());
  assert.equal(load.accepted, QUOTA);
  assert.deepEqual(load.refused, new Map([['end of data: 454 Throttling failure: Daily message quota exceeded', offered() - QUOTA]]));
  const quota = await cliJson<{ SentLast24Hours: number }>(nodes[2]!.dataDir, '--config', join(nodes[2]!.dataDir, 'relaygate.yaml'), 'quota', credential.accountId);
  assert.equal(quota.SentLast24Hours, QUOTA);
});
