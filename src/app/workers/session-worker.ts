/**
 * A session worker: one of the processes (smtp.workers) that run the SMTP and HTTP API sessions — TLS, SMTP parsing,
 * body streaming, DKIM hashing, the send policy and the durable commit — so that they use every core. The listening
 * sockets belong to the primary (node:cluster hands each worker its connections); the primary runs delivery and the
 * event consumers and keeps what sessions share (connection counts, the AUTH throttle).
 */
import nodeCluster from 'node:cluster';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../../config/schema.js';
import { createLogger } from '../../log/logger.js';
import { Spool } from '../../queue/spool.js';
import { SqliteQueueStore } from '../../queue/sqlite-queue-store.js';
import { loadTlsMaterial } from '../../smtp/tls-material.js';
import type { SubmissionOutcome } from '../../submission/submit-message.js';
import { installFaultHandlers } from '../fault-handlers.js';
import { nodeIdOf } from '../../config/node-id.js';
import { openClusterNode } from '../cluster-node.js';
import { openNodeControlStore } from '../node-control-store.js';
import { openSendLimiter } from '../../ratelimit/open-send-limiter.js';
import type { SendLimiter } from '../../ratelimit/send-limiter.js';
import { timedSendLimiter } from '../../ratelimit/timed-send-limiter.js';
import { startSessions, type RunningSessions } from '../sessions.js';
import { PrimaryChannel } from './primary-channel.js';
import { RemoteAcceptor, RemoteSendLimiter, RemoteSessionGate, SharedTlsSessions } from './remote-services.js';
import { workerError, type FromWorker, type ToWorker } from './worker-messages.js';

/** How often a worker passes its counts to the primary's metrics. */
const METRICS_FLUSH_MS = 200;

const send = (message: FromWorker) => {
  if (process.connected) process.send?.(message);
};

const primary = new PrimaryChannel(send);
/** The node's TLS 1.2 sessions: this worker's, and those the primary relays from the others. */
const tlsSessions = new SharedTlsSessions((id, data) => send({ kind: 'tls-session', id, data }));
/** The node's session gate, kept by the primary; the AUTH blocks it told this worker are checked here. */
const gate = new RemoteSessionGate(primary);
/** Cluster mode: the nodes the primary last saw alive (its 'fleet-nodes' messages). */
let fleetNodes = 1;
let running: { sessions: RunningSessions; config: GatewayConfig; ticketKeys: Buffer; log: Logger; flushMetrics(): void; close(): Promise<void> } | null = null;

// The primary orchestrates shutdown (SIGTERM to the whole process group, Ctrl-C) through 'stop' messages.
process.on('SIGTERM', () => undefined);
process.on('SIGINT', () => undefined);
// The primary died (SIGKILL, crash): nothing may be committed after a new primary starts and cleans up the spool.
process.on('disconnect', () => {
  primary.abandon();
  process.exit(1);
});

process.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'start':
      start(message.config, Buffer.from(message.ticketKeys)).catch((error: unknown) => {
        send({ kind: 'failed', error: workerError(error) });
        process.exit(1);
      });
      break;
    case 'answers':
      for (const answer of message.answers) primary.answered(answer);
      break;
    case 'fleet-nodes':
      fleetNodes = message.nodes;
      break;
    case 'tls-session':
      void tlsSessions.learn(message.id, message.data);
      break;
    case 'auth-blocks':
      gate.learnBlocks(message.entries);
      break;
    case 'reload-tls':
      if (running) reload(running);
      break;
    case 'flush-metrics':
      running?.flushMetrics();
      send({ kind: 'metrics-flushed', id: message.id });
      break;
    case 'stop-accepting':
      running?.sessions.stopAccepting();
      send({ kind: 'not-accepting' });
      break;
    case 'stop':
      void stop();
      break;
  }
});
// Messages that arrive before a listener is installed are lost: the primary sends 'start' only after this.
send({ kind: 'ready' });

async function start(config: GatewayConfig, ticketKeys: Buffer): Promise<void> {
  const log = createLogger(config.log).child({ worker: nodeCluster.worker?.id });
  installFaultHandlers(log);
  const { store } = await openNodeControlStore(config, log);
  // Read here; queue.db and limits.db are written by the primary only (app/workers/primary-calls.ts), bounces and
  // complaints received on intake listeners aside.
  const queue = SqliteQueueStore.open(config.dataDir);
  // Cluster mode: the fleet's statistics and the route of feedback for other nodes (no heartbeat: the primary's).
  const cluster = openClusterNode(config.cluster, nodeIdOf(config), queue, log);
  const limiter = workerSendLimiter(config, log);
  const close = async () => {
    await limiter.close();
    await cluster?.stop();
    queue.close();
    await store.close();
  };
  const submissions: SubmissionOutcome[] = [];
  const apiRequests: Array<{ operation: string; status: string }> = [];
  const sendLimitChecks: number[] = [];
  const flush = () => {
    if (submissions.length === 0 && apiRequests.length === 0 && sendLimitChecks.length === 0) return;
    send({ kind: 'metrics', submissions: submissions.splice(0), apiRequests: apiRequests.splice(0), sendLimitChecks: sendLimitChecks.splice(0) });
  };
  setInterval(flush, METRICS_FLUSH_MS).unref();
  try {
    // The primary has loaded the same files and warned about what needs warning.
    const tls = await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log.child({}, { level: 'error' }), ticketKeys);
    const spool = new Spool(config.dataDir);
    const sessions = await startSessions(
      config,
      {
        store,
        queue,
        limiter: config.http.metricsListen ? timedSendLimiter(limiter, (seconds) => sendLimitChecks.push(seconds)) : limiter,
        spool,
        acceptor: new RemoteAcceptor(spool, primary),
        statistics: cluster?.statistics ?? queue.statistics,
        nodeId: nodeIdOf(config),
        ...(cluster ? { router: cluster.router } : {}),
      },
      {
        gate,
        tlsSessions,
        ...(config.http.metricsListen ? { observe: (outcome) => submissions.push(outcome), apiRequests: { inc: (labels) => apiRequests.push(labels) } } : {}),
        feedbackParserThreads: 0,
      },
      tls,
      log,
    );
    running = { sessions, config, ticketKeys, log, flushMetrics: flush, close: async () => (flush(), close()) };
    send({
      kind: 'listening',
      smtp: sessions.listeners.map(({ config: listener, port }) => ({ config: listener, port })),
      api: sessions.apiListeners.map(({ config: listener, port }) => ({ config: listener, port })),
    });
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * In cluster mode each worker asks Redis itself: the primary's limits.db is the reason the embedded limiter lives in
 * the primary, and going through it would add a turn of the primary's busy event loop to every message. While Redis
 * is away, the worker decides alone on its share of the node's share: the rate divided by the nodes the primary last
 * saw and by smtp.workers.
 */
function workerSendLimiter(config: GatewayConfig, log: Logger): SendLimiter {
  if (config.cluster.redisUrl === null) return new RemoteSendLimiter(primary);
  return openSendLimiter(config, log, () => fleetNodes * config.smtp.workers);
}

function reload({ sessions, config, ticketKeys, log }: NonNullable<typeof running>): void {
  loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log, ticketKeys).then(
    (material) => sessions.reloadTls(material),
    (error: unknown) => log.error({ err: error }, 'TLS reload failed in a session worker; keeping the previous certificates'),
  );
}

async function stop(): Promise<void> {
  if (running) {
    await running.sessions.stop();
    await running.close();
  }
  process.exit(0);
}
