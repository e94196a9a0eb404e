import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { GetSendStatisticsCommand, SESClient } from '@aws-sdk/client-ses';
import type { Redis } from 'ioredis';
import type { StoredMailEvent } from '../../src/events/mail-event.js';
import { nodeOfId } from '../../src/message/message-id.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { openRedisControlStore } from '../../src/store/open-control-store.js';
import { createLogger } from '../../src/log/logger.js';
import { cli } from '../support/cli-runner.js';
import { startSinks, submit, testDeliveryConfig, waitForFinal } from '../support/delivery-fixture.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { dsnText } from '../support/feedback-messages.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { provisionCredential, type ClusterStore, type TestCredential } from '../support/provision.js';
import type { SinkMx } from '../support/sink-mx.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';
import { deleteKeys, TEST_REDIS_URL, testKeyPrefix, testRedis } from '../support/test-redis.js';
import { waitUntil } from '../support/wait-until.js';

const FEEDBACK_DOMAIN = 'feedback.test';
const HEARTBEAT_MS = 300;
const RETURN_PATH = /^b-nodea-[0-9a-z]{1,11}-[0-9a-z]{13}@feedback\.test$/;

/** Every event of a node's log so far (a fresh reader each time). */
function logEvents(dataDir: string): StoredMailEvent[] {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    return queue.events.read(`test-${Math.random()}`, 10_000);
  } finally {
    queue.close();
  }
}

interface StatusJson {
  nodes: Array<{ id: string; version: string; pid: number; listeners: string[]; queue: Record<string, number>; pendingFeedback: number }>;
  silentNodes: Array<{ id: string; pendingFeedback: number }>;
}

/**
 * Two gateway processes sharing one Redis (the control plane, and each with its own SQLite queue): node A sends,
 * node B's intake listener takes the bounces, and A records them.
 */
describe('two nodes sharing Redis behave as one endpoint for feedback and reporting', () => {
  const prefix = testKeyPrefix('nodes');
  let redis: Redis;
  let proxy: TcpProxy;
  let dns: TestDnsServer;
  let sink: SinkMx;
  let nodeA: GatewayProcess;
  let nodeB: GatewayProcess;
  let credential: TestCredential;
  /** The control plane both nodes share, with the secret key file they share for SigV4. */
  const cluster: ClusterStore = { redisUrl: TEST_REDIS_URL, keyPrefix: prefix, secretKeyFile: join(tempDir('relaygate-cluster-'), 'secret.key') };

  const nodeConfig = (nodeId: string, redisUrl: string) => ({
    smtp: { hostname: `${nodeId}.relaygate.test` },
    ...testDeliveryConfig(dns, sink.port, { feedbackDomain: FEEDBACK_DOMAIN }),
    cluster: { redisUrl, keyPrefix: prefix, nodeId, heartbeatMs: HEARTBEAT_MS },
    http: { secretKeyFile: cluster.secretKeyFile },
  });
  const startNode = (nodeId: string, redisUrl: string, dataDir?: string) =>
    startGatewayProcess({ ...(dataDir ? { dataDir } : {}), listen: ['127.0.0.1:0=starttls', '127.0.0.1:0=tls', '127.0.0.1:0=starttls+intake'], config: nodeConfig(nodeId, redisUrl) });
  /** A command run against node A's configuration (its Redis and key prefix). */
  const clusterCli = async (...args: string[]) => {
    const result = await cli(nodeA.dataDir, '--config', join(nodeA.dataDir, 'relaygate.yaml'), ...args);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const status = async () => JSON.parse(await clusterCli('cluster', 'status', '--json')) as StatusJson;

  /** Sends a DSN for `returnPath` from the null sender to an intake port; returns the replies to RCPT and to the end of DATA. */
  async function sendDsn(port: number, returnPath: string, recipient: string, dsnId: string): Promise<{ rcpt: string; data: string | null }> {
    const dialog = await SmtpDialog.open({ port });
    try {
      await dialog.reply();
      await dialog.ehlo('mx.alpha.test');
      await dialog.command('MAIL FROM:<>');
      const rcpt = await dialog.command(`RCPT TO:<${returnPath}>`);
      if (!rcpt.startsWith('250')) return { rcpt, data: null };
      await dialog.command('DATA');
      const text = dsnText({ returnPath, messageId: `<${dsnId}@mx.alpha.test>`, recipients: [{ final: recipient, action: 'failed', status: '5.1.1', diagnostic: `smtp; 550 5.1.1 <${recipient}>: User unknown` }] });
      dialog.write(`${text.replace(/^\./gm, '..')}.\r\n`);
      const data = await dialog.line();
      await dialog.command('QUIT');
      return { rcpt, data };
    } finally {
      dialog.close();
    }
  }

  /** Submits a message to `node` and returns its id and the return path it was delivered with. */
  async function sent(node: GatewayProcess, to: string): Promise<{ id: string; returnPath: string }> {
    const id = await submit(node, credential, { to: [to] });
    assert.equal((await waitForFinal(node.dataDir, id)).deliveries[0]!.state, 'delivered');
    const received = sink.messages.find((message) => message.raw.toString('latin1').includes(`Message-ID: <${id}@`))!;
    return { id, returnPath: received.mailFrom };
  }

  const bouncesOf = (dataDir: string, messageId: string) => logEvents(dataDir).filter((event) => event.type === 'Bounce' && event.messageId === messageId);

  before(async () => {
    redis = testRedis();
    // Node B reaches Redis through a relay the tests can cut.
    proxy = await startTcpProxy(6379);
    [sink] = (await startSinks([{ host: '127.0.0.2', tlsNames: ['mx.alpha.test', 'mx.example.com'] }])) as [SinkMx];
    dns = await startDnsServer({
      'alpha.test': { MX: [{ exchange: 'mx.alpha.test', priority: 10 }] },
      'mx.alpha.test': { A: ['127.0.0.2'] },
      // Where feedback forwarding sends the bounce reports (to the envelope sender).
      'example.com': { MX: [{ exchange: 'mx.example.com', priority: 10 }] },
      'mx.example.com': { A: ['127.0.0.2'] },
    });
    // One after the other, so that `after` stops whichever started when the other fails to.
    nodeA = await startNode('nodea', TEST_REDIS_URL);
    nodeB = await startNode('nodeb', `redis://127.0.0.1:${proxy.port}`);
    credential = await provisionCredential(cluster);
  });
  after(async () => {
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await Promise.all([sink?.close(), dns?.close(), proxy?.close()]);
    await deleteKeys(redis, prefix);
    redis.disconnect();
  });

  test('the node id is part of every message id, return path and event id', async () => {
    const { id, returnPath } = await sent(nodeA, 'jane@alpha.test');
    assert.equal(nodeOfId(id), 'nodea', id);
    assert.match(returnPath, RETURN_PATH);
    const events = logEvents(nodeA.dataDir).filter((event) => event.messageId === id);
    assert.deepEqual(events.map((event) => event.type).sort(), ['Delivery', 'Send']);
    for (const event of events) assert.equal(nodeOfId(event.id), 'nodea', `${event.type} ${event.id}`);
    const fromB = await submit(nodeB, credential, { to: ['joe@alpha.test'] });
    assert.equal(nodeOfId(fromB), 'nodeb', fromB);
  });

  test('a DSN for node A\'s mail sent to node B becomes A\'s Bounce event; suppression and the bounce report follow on A', async () => {
    const { id, returnPath } = await sent(nodeA, 'mary@alpha.test');
    const reportsBefore = sink.messages.filter((message) => message.rcptTo.includes('sender@example.com')).length;
    assert.deepEqual(await sendDsn(nodeB.intakePorts[0]!, returnPath, 'mary@alpha.test', 'dsn-routed'), { rcpt: '250 Ok', data: '250 Ok: passed to the node that sent the mail' });
    await waitUntil(() => bouncesOf(nodeA.dataDir, id).length > 0, 'the Bounce event on node A');
    const [bounce] = bouncesOf(nodeA.dataDir, id) as [StoredMailEvent & { type: 'Bounce' }];
    assert.equal(nodeOfId(bounce.id), 'nodea');
    assert.deepEqual(
      { type: bounce.detail.bounceType, subType: bounce.detail.bounceSubType, recipients: bounce.detail.bouncedRecipients, feedbackId: bounce.detail.feedbackId, source: bounce.mail.source },
      { type: 'Permanent', subType: 'NoEmail', recipients: [{ emailAddress: 'mary@alpha.test', action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 <mary@alpha.test>: User unknown' }], feedbackId: bounce.id, source: 'sender@example.com' },
    );
    assert.equal(logEvents(nodeB.dataDir).filter((event) => event.type === 'Bounce').length, 0, 'node B records nothing itself');
    const passed = await nodeB.waitForLog('feedback passed to the node that sent the mail');
    assert.deepEqual({ node: passed.node, recipients: passed.recipients }, { node: 'nodea', recipients: [returnPath] });

    // The chain that follows a bounce on the owning node: the address is suppressed, the sender gets the report.
    await waitUntil(() => sink.messages.filter((message) => message.rcptTo.includes('sender@example.com')).length > reportsBefore, 'the bounce report to the sender', 20_000, 50);
    const report = sink.messages.filter((message) => message.rcptTo.includes('sender@example.com')).at(-1)!;
    assert.equal(report.mailFrom, '');
    assert.match(report.raw.toString('latin1'), /Final-Recipient: rfc822; ?mary@alpha\.test/i);
    const store = await openRedisControlStore(TEST_REDIS_URL, prefix, createLogger({ level: 'silent' }));
    try {
      const suppressed = await store.suppression.get(credential.accountId, 'mary@alpha.test');
      assert.equal(suppressed?.reason, 'BOUNCE');
    } finally {
      await store.close();
    }
  });

  test('a return path of a node the cluster does not know is refused like any unknown one', async () => {
    const { returnPath } = await sent(nodeA, 'ann@alpha.test');
    const unknownNode = returnPath.replace('b-nodea-', 'b-nodez-');
    assert.deepEqual(await sendDsn(nodeB.intakePorts[0]!, unknownNode, 'ann@alpha.test', 'dsn-unknown'), { rcpt: '550 Message rejected: no such feedback address', data: null });
    assert.deepEqual(await sendDsn(nodeA.intakePorts[0]!, unknownNode, 'ann@alpha.test', 'dsn-unknown'), { rcpt: '550 Message rejected: no such feedback address', data: null });
  });

  test('the fleet\'s statistics: GetSendStatistics and `relaygate stats` sum what both nodes sent', async () => {
    const account = await provisionCredential(cluster, { policy: 'full-access' });
    const sendVia = async (node: GatewayProcess, to: string[]) => submit(node, account, { to });
    await sendVia(nodeA, ['s1@alpha.test', 's2@alpha.test']);
    await sendVia(nodeB, ['s3@alpha.test', 's4@alpha.test', 's5@alpha.test']);
    const attempts = async () => {
      const json = JSON.parse(await clusterCli('stats', account.accountId, '--json')) as { SendDataPoints: Array<{ DeliveryAttempts: number }> };
      return json.SendDataPoints.reduce((sum, point) => sum + point.DeliveryAttempts, 0);
    };
    const deadline = Date.now() + 20_000;
    while ((await attempts()) < 5 && Date.now() < deadline) await sleep(100);
    assert.equal(await attempts(), 5, 'two recipients sent by A and three by B');
    const reputation = JSON.parse(await clusterCli('reputation', account.accountId, '--json')) as { Recipients: number };
    assert.equal(reputation.Recipients, 5);
    for (const node of [nodeA, nodeB]) {
      const ses = new SESClient({ region: 'us-east-1', endpoint: `http://127.0.0.1:${node.httpPorts[0]}`, credentials: { accessKeyId: account.user, secretAccessKey: account.secretAccessKey }, maxAttempts: 1 });
      const { SendDataPoints } = await ses.send(new GetSendStatisticsCommand({}));
      assert.equal(SendDataPoints?.reduce((sum, point) => sum + (point.DeliveryAttempts ?? 0), 0), 5, 'GetSendStatistics on either node');
      ses.destroy();
    }
    const keys = await redis.keys(`${prefix}stats:${account.accountId}:*`);
    assert.ok(keys.length >= 2, `a bucket hash and the account's index: ${keys.join(', ')}`);
    for (const key of keys) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= 15 * 86_400_000, `${key} expires within 15 days (${ttl} ms)`);
    }
  });

  test('Redis unreachable: node B answers 451 to a report for A, and 250 once Redis is back', async () => {
    const { id, returnPath } = await sent(nodeA, 'bob@alpha.test');
    await proxy.cut();
    // Each session worker remembers the nodes it has found in Redis, and the kernel gives the connection to either
    // worker: one that has seen node A takes RCPT and cannot pass the report on (DATA 451), one that has not cannot ask
    // Redis whether A is a node (RCPT 451). Either way the reporting MTA keeps the report and retries.
    const duringOutage = await sendDsn(nodeB.intakePorts[0]!, returnPath, 'bob@alpha.test', 'dsn-outage');
    const temporaryFailures = [
      { rcpt: '250 Ok', data: '451 Temporary service failure' },
      { rcpt: '451 Temporary service failure', data: null },
    ];
    assert.ok(temporaryFailures.some((expected) => isDeepStrictEqual(duringOutage, expected)), JSON.stringify(duringOutage));
    await proxy.restore();
    let reply: { rcpt: string; data: string | null } | null = null;
    const deadline = Date.now() + 15_000;
    do {
      if (reply) await sleep(200);
      reply = await sendDsn(nodeB.intakePorts[0]!, returnPath, 'bob@alpha.test', 'dsn-outage');
    } while (reply.data !== '250 Ok: passed to the node that sent the mail' && Date.now() < deadline);
    assert.deepEqual(reply, { rcpt: '250 Ok', data: '250 Ok: passed to the node that sent the mail' }, 'the MTA retrying the report after the outage');
    await waitUntil(() => bouncesOf(nodeA.dataDir, id).length > 0, 'the Bounce event on node A');
  });

  test('cluster status lists both live nodes; a killed node drops out when its heartbeat expires, and the reports for it wait until it is back', async () => {
    let live: StatusJson = await status();
    const deadline = Date.now() + 10_000;
    while (live.nodes.length < 2 && Date.now() < deadline) {
      await sleep(100);
      live = await status();
    }
    assert.deepEqual(live.nodes.map((node) => node.id), ['nodea', 'nodeb']);
    const [a] = live.nodes as [StatusJson['nodes'][number]];
    assert.deepEqual({ pid: a.pid, listeners: a.listeners.length, pendingFeedback: a.pendingFeedback, silent: live.silentNodes }, { pid: nodeA.child.pid, listeners: 3, pendingFeedback: 0, silent: [] });
    assert.match(a.version, /^\d+\.\d+\.\d+/);
    assert.ok((a.queue.delivered ?? 0) > 0, JSON.stringify(a.queue));
    const table = await clusterCli('cluster', 'status');
    assert.match(table.split('\n')[0]!, /^NODE +VERSION +HOST +PID +STARTED +LAST SEEN +LISTENERS +QUEUE +FEEDBACK WAITING$/);
    assert.match(table, /^nodea +\d+\.\d+\.\d+ /m);

    const { id, returnPath } = await sent(nodeA, 'eve@alpha.test');
    await nodeA.kill();
    assert.deepEqual(await sendDsn(nodeB.intakePorts[0]!, returnPath, 'eve@alpha.test', 'dsn-while-down'), { rcpt: '250 Ok', data: '250 Ok: passed to the node that sent the mail' });
    const expiry = Date.now() + 3 * HEARTBEAT_MS + 5000;
    while ((live = await status()).nodes.length > 1 && Date.now() < expiry) await sleep(100);
    assert.deepEqual({ nodes: live.nodes.map((node) => node.id), silent: live.silentNodes }, { nodes: ['nodeb'], silent: [{ id: 'nodea', pendingFeedback: 1 }] });
    assert.match(await clusterCli('cluster', 'status'), /^not live: nodea \(1 feedback reports waiting\)$/m);

    nodeA = await startNode('nodea', TEST_REDIS_URL, nodeA.dataDir);
    await waitUntil(() => bouncesOf(nodeA.dataDir, id).length > 0, 'the Bounce event on node A after its restart');
    const settled = Date.now() + 10_000;
    let back = await status();
    while ((back.silentNodes.length > 0 || back.nodes.some((node) => node.pendingFeedback > 0)) && Date.now() < settled) {
      await sleep(100);
      back = await status();
    }
    assert.deepEqual({ nodes: back.nodes.map(({ id: node, pendingFeedback }) => ({ node, pendingFeedback })), silent: back.silentNodes }, {
      nodes: [{ node: 'nodea', pendingFeedback: 0 }, { node: 'nodeb', pendingFeedback: 0 }],
      silent: [],
    });
  });

  test('cluster status says when no node is live', async () => {
    await Promise.all([nodeA.stop(), nodeB.stop()]);
    const text = await clusterCli('cluster', 'status');
    assert.equal(text, `no live nodes: none has a heartbeat in ${TEST_REDIS_URL} under the prefix "${prefix}"\nnot live: nodea (0 feedback reports waiting), nodeb (0 feedback reports waiting)\n`);
    assert.deepEqual(await status(), { nodes: [], silentNodes: [{ id: 'nodea', pendingFeedback: 0 }, { id: 'nodeb', pendingFeedback: 0 }] });
  });
});
