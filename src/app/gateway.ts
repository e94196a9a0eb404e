import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openToOthers } from '../common/private-files.js';
import { openClusterNode } from './cluster-node.js';
import { controlStoreDeliverySettings } from './control-store-delivery-settings.js';
import { startQueueMaintenance } from './queue-maintenance.js';
import { startEventPublishing, type EventPublishing } from './event-publishing.js';
import { formatHttpListener } from '../config/http-options.js';
import { formatListener } from '../config/listen-spec.js';
import { nodeIdOf } from '../config/node-id.js';
import type { GatewayConfig, ListenerConfig } from '../config/schema.js';
import { DeliveryEngine } from '../delivery/delivery-engine.js';
import { openFleetShaping } from '../delivery/redis-shaping.js';
import { EventConsumer } from '../events/event-consumer.js';
import { suppressionRecorder } from '../feedback/suppression/suppression-recorder.js';
import { statisticsRecorder } from '../feedback/statistics/statistics-recorder.js';
import { createResolver } from '../delivery/mx/index.js';
import { FeedbackForwarder } from '../feedback/forwarding/feedback-forwarder.js';
import { controlStoreForwardingSettings } from '../feedback/forwarding/forwarding-settings.js';
import { IdentityVerifier } from '../identity/identity-verifier.js';
import { mailFromTargets } from '../identity/mail-from-targets.js';
import { openSendLimiter } from '../ratelimit/open-send-limiter.js';
import { timedSendLimiter } from '../ratelimit/timed-send-limiter.js';
import { MessageAcceptor } from '../queue/message-acceptor.js';
import { Spool } from '../queue/spool.js';
import { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import { AuthThrottle } from '../smtp/auth-throttle.js';
import { movedListeners } from '../smtp/listeners.js';
import { LocalSessionGate } from '../smtp/session-gate.js';
import { TlsSessionCache } from '../smtp/tls-session-cache.js';
import { loadTlsMaterial, type TlsMaterial } from '../smtp/tls-material.js';
import { createGatewayMetrics, startMetricsListener } from './metrics-listener.js';
import { openNodeControlStore } from './node-control-store.js';
import { createFeedbackIntake, startSessions } from './sessions.js';
import { primaryCalls } from './workers/primary-calls.js';
import { WorkerPool } from './workers/worker-pool.js';

/** A listener as it runs: its configuration with the bound port (which differs from the configured one for port 0). */
export interface BoundListener {
  config: ListenerConfig;
  port: number;
}

/** A running gateway: its listeners and what it needs to reload and stop cleanly. */
export interface Gateway {
  listeners: BoundListener[];
  reloadTls(): Promise<void>;
  stop(): Promise<void>;
}

/** The sessions, wherever they run: in this process, or in session workers. */
interface Sessions {
  listeners: BoundListener[];
  apiListeners: string[];
  reloadTls(tls: TlsMaterial): void;
  /** Resolves when the counts the sessions keep elsewhere (session workers) have reached this process's metrics. */
  collectMetrics(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires the layers together from the configuration and starts listening. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<Gateway> {
  const { store, cached } = await openNodeControlStore(config, log);
  const queue = SqliteQueueStore.open(config.dataDir);
  const shaping = openFleetShaping(config, log);
  const limiter = openSendLimiter(config, log, () => shaping?.nodes ?? 1);
  const spool = new Spool(config.dataDir);
  const nodeId = nodeIdOf(config);
  const cluster = openClusterNode(config.cluster, nodeId, queue, log);
  const statistics = cluster?.statistics ?? queue.statistics;
  const exposed = openToOthers([config.dataDir, spool.root, ...['control.db', 'queue.db', 'limits.db', 'replay-guard.db'].map((name) => join(config.dataDir, name))]);
  if (exposed.length > 0) log.warn({ paths: exposed }, 'data readable by other users (made before relaygate created its files private, or by hand): chmod 700 the directories and 600 the files');
  const acceptor = new MessageAcceptor(spool, queue, log);
  // Before any session starts: no other process may be writing a message whose body would look orphaned.
  const removed = await acceptor.removeOrphans(await spool.listFiles());
  if (removed > 0) log.warn({ files: removed }, 'removed body files of messages that were never acknowledged (crash before commit)');
  const delivery = config.delivery.enabled ? new DeliveryEngine({ config, queue, spool, settings: controlStoreDeliverySettings(cached?.withGrace(Number.POSITIVE_INFINITY) ?? store, log), log, shaping }) : null;
  if (delivery) {
    acceptor.onCommitted(() => delivery.wake());
    acceptor.handOffTo(delivery);
  }
  const forwarder = new FeedbackForwarder({
    queue,
    settings: controlStoreForwardingSettings(store),
    report: { hostname: config.smtp.hostname, fromDomain: config.delivery.feedbackDomain, messageIdDomain: config.smtp.messageIdDomain },
    queued: () => delivery?.wake(),
    log,
  });
  const gate = new LocalSessionGate(config.smtp, new AuthThrottle(config.authThrottle));
  const metrics = createGatewayMetrics(config, queue, () => gate.openConnections);

  const closeStores = async () => {
    await cluster?.stop();
    queue.close();
    await limiter.close();
    await shaping?.close();
    await store.close();
  };
  let tls: TlsMaterial;
  let publishing: EventPublishing;
  try {
    tls = await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log);
    publishing = await startEventPublishing(config, store, queue.events, tls, log);
  } catch (error) {
    await closeStores();
    throw error;
  }
  let sessions: Sessions | undefined;
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  try {
    // Before listening: a start-up problem (an unreadable DKIM key, certificate) must stop the start, not a running gateway.
    await shaping?.start();
    await delivery?.start();
    const observers = metrics ? { observe: metrics.submissions, apiRequests: metrics.httpRequests } : {};
    // Workers time their send-limit checks themselves, the trip to this process (or to Redis) included.
    const workerHooks = { ...observers, ...(metrics && { observeSendLimitCheck: metrics.observeSendLimitCheck }), ...(shaping && { fleetNodes: () => shaping.nodes }) };
    sessions =
      config.smtp.workers > 1
        ? await startWorkers(config, tls.ticketKeys, { calls: primaryCalls(gate, acceptor, limiter), authBlocks: gate, ...workerHooks }, log)
        : await startInProcess(config, { store, queue, limiter: metrics ? timedSendLimiter(limiter, metrics.observeSendLimitCheck) : limiter, spool, acceptor, statistics, nodeId, ...(cluster ? { router: cluster.router } : {}) }, { gate, tlsSessions: new TlsSessionCache(), ...observers, feedbackParserThreads: availableParallelism() - 1 }, tls, log);
    metricsListener = await startMetricsListener(config, metrics, sessions.collectMetrics, queue, cluster, log);
  } catch (error) {
    await sessions?.stop();
    await delivery?.stop();
    await publishing.stop();
    await closeStores();
    throw error;
  }
  const moved = movedListeners(config.listeners, sessions.listeners);
  if (moved.length > 0) log.warn({ moved }, `not allowed to bind privileged ports: default listeners moved to unprivileged ports (${moved.join(', ')})`);
  const verifier = new IdentityVerifier(store, createResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs }), mailFromTargets(config).feedbackHost, config.verification, log);
  verifier.start();
  // Consumers of the event log: each follows new events from its own cursor.
  const consumers = [
    suppressionRecorder(store),
    forwarder,
    statisticsRecorder({ statistics, store, config: config.reputation, log }),
    ...(metrics ? [metrics.deliveryEvents] : []),
  ].map((handler) => new EventConsumer(queue.events, handler, log, { pollMs: config.events.pollMs }));
  for (const consumer of consumers) consumer.start();
  const listenerNames = sessions.listeners.map(({ config: listener, port }) => formatListener({ ...listener, port }));
  // Reports other nodes received for this node's return paths are applied here, as the intake listeners would.
  cluster?.start(createFeedbackIntake(config, { store, queue, nodeId, router: cluster.router }, log), { listeners: () => listenerNames, queueDepth: () => queue.health.depthByState() });
  const stopMaintenance = startQueueMaintenance(queue, { eventHours: config.events.retentionHours, completedHours: config.delivery.completedRetentionHours }, log);
  log.info(
    { listeners: listenerNames, region: config.region, dataDir: config.dataDir, workers: config.smtp.workers, node: nodeId },
    'relaygate listening',
  );
  log.info({ listeners: sessions.apiListeners, metrics: metricsListener?.address ?? null }, 'http api listening');

  const running = sessions;
  return {
    listeners: running.listeners,
    async reloadTls() {
      const material = await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log, tls.ticketKeys);
      running.reloadTls(material);
      log.info('TLS certificates reloaded');
    },
    async stop() {
      await Promise.all([running.stop(), metricsListener?.stop()]);
      await delivery?.stop();
      stopMaintenance();
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      await verifier.stop();
      await publishing.stop();
      await closeStores();
    },
  };
}

async function startInProcess(...args: Parameters<typeof startSessions>): Promise<Sessions> {
  const sessions = await startSessions(...args);
  return {
    listeners: sessions.listeners.map(({ config, port }) => ({ config, port })),
    apiListeners: sessions.apiListeners.map(({ config, port }) => formatHttpListener({ ...config, port })),
    reloadTls: (tls) => sessions.reloadTls(tls),
    collectMetrics: () => Promise.resolve(),
    stop: () => sessions.stop(),
  };
}

async function startWorkers(config: GatewayConfig, ticketKeys: Buffer, hooks: ConstructorParameters<typeof WorkerPool>[2], log: Logger): Promise<Sessions> {
  // Every worker gets the primary's TLS ticket keys, so a session resumes on whichever worker the client reaches.
  const pool = new WorkerPool(config, ticketKeys, hooks, log);
  const listening = await pool.start();
  return {
    listeners: listening.smtp,
    apiListeners: listening.api.map(({ config: listener, port }) => formatHttpListener({ ...listener, port })),
    // Each worker reads the files again; this process has just checked that they load.
    reloadTls: () => pool.reloadTls(),
    collectMetrics: () => pool.collectMetrics(),
    stop: () => pool.stop(),
  };
}
