import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { openToOthers } from '../common/private-files.js';
import { openClusterNode } from './cluster-node.js';
import { controlStoreDeliverySettings } from './control-store-delivery-settings.js';
import { startLogMaintenance } from './log-maintenance.js';
import { startEventPublishing, type EventPublishing } from './event-publishing.js';
import { SmtpAuthenticator } from '../auth/smtp-authenticator.js';
import { plaintextBlockList } from '../config/load.js';
import { formatListener } from '../config/listen-spec.js';
import { nodeIdOf } from '../config/node-id.js';
import type { GatewayConfig } from '../config/schema.js';
import { DeliveryEngine } from '../delivery/delivery-engine.js';
import { EventConsumer } from '../events/event-consumer.js';
import { suppressionRecorder } from '../feedback/suppression/suppression-recorder.js';
import { statisticsRecorder } from '../feedback/statistics/statistics-recorder.js';
import { createResolver } from '../delivery/mx/index.js';
import { FeedbackForwarder } from '../feedback/forwarding/feedback-forwarder.js';
import { controlStoreForwardingSettings } from '../feedback/forwarding/forwarding-settings.js';
import { DeadLetterFolder } from '../feedback/intake/dead-letter-folder.js';
import { FeedbackDomains } from '../feedback/intake/feedback-domains.js';
import { FeedbackIntake } from '../feedback/intake/feedback-intake.js';
import { FeedbackParserPool } from '../feedback/intake/feedback-parser-pool.js';
import { IdentityVerifier } from '../identity/identity-verifier.js';
import { mailFromTargets } from '../identity/mail-from-targets.js';
import { buildSendPolicy } from '../policy/build-send-policy.js';
import { openSendLimiter } from '../ratelimit/open-send-limiter.js';
import { MessageAcceptor } from '../queue/message-acceptor.js';
import { Spool } from '../queue/spool.js';
import { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import { AuthThrottle } from '../smtp/auth-throttle.js';
import { createIntakeHandlers } from '../smtp/feedback-intake-handlers.js';
import { reloadTls, startListeners, stopListeners, type RunningListener } from '../smtp/listeners.js';
import { createSubmissionHandlers } from '../smtp/submission-handlers.js';
import { loadTlsMaterial, type TlsMaterial } from '../smtp/tls-material.js';
import { SqliteControlStore } from '../store/sqlite/sqlite-control-store.js';
import { createGatewayMetrics, startHttpApi } from './http-api.js';

/** A running gateway: its listeners and what it needs to reload and stop cleanly. */
export interface Gateway {
  listeners: RunningListener[];
  reloadTls(): Promise<void>;
  stop(): Promise<void>;
}

/** Wires the layers together from the configuration and starts listening. */
export async function startGateway(config: GatewayConfig, log: Logger): Promise<Gateway> {
  const store = SqliteControlStore.open(config.dataDir);
  const queue = SqliteQueueStore.open(config.dataDir);
  const limiter = openSendLimiter(config.dataDir);
  const spool = new Spool(config.dataDir);
  const nodeId = nodeIdOf(config);
  const cluster = openClusterNode(config.cluster, nodeId, queue, log);
  const statistics = cluster?.statistics ?? queue.statistics;
  const exposed = openToOthers([config.dataDir, spool.root, ...['control.db', 'queue.db', 'limits.db'].map((name) => join(config.dataDir, name))]);
  if (exposed.length > 0) log.warn({ paths: exposed }, 'data readable by other users (made before relaygate created its files private, or by hand): chmod 700 the directories and 600 the files');
  const acceptor = new MessageAcceptor(spool, queue, log);
  const removed = await acceptor.removeOrphans(await spool.listFiles());
  if (removed > 0) log.warn({ files: removed }, 'removed body files of messages that were never acknowledged (crash before commit)');
  const delivery = config.delivery.enabled ? new DeliveryEngine({ config, queue, spool, settings: controlStoreDeliverySettings(store), log }) : null;
  if (delivery) acceptor.onCommitted(() => delivery.wake());
  const forwarder = new FeedbackForwarder({
    queue,
    settings: controlStoreForwardingSettings(store),
    report: { hostname: config.smtp.hostname, fromDomain: config.delivery.feedbackDomain, messageIdDomain: config.smtp.messageIdDomain },
    queued: () => delivery?.wake(),
    log,
  });

  let listeners: RunningListener[] = [];
  const metrics = createGatewayMetrics(config, queue, () => listeners);
  const submission = { smtp: config.smtp, nodeId, policy: buildSendPolicy(store, limiter, config.region), spool, acceptor, log, ...(metrics ? { observe: metrics.submissions } : {}) };
  const handlers = createSubmissionHandlers({
    ...submission,
    plaintextNetworks: plaintextBlockList(config.smtp.plaintextNetworks),
    authenticator: new SmtpAuthenticator(store, config.region),
    throttle: new AuthThrottle(config.authThrottle),
  });

  // Parser threads (started on first use) for incoming feedback: every core but the one the sessions and commits run
  // on; with a single core the main thread parses.
  const feedbackParsers = new FeedbackParserPool(availableParallelism() - 1, log);
  const intake = new FeedbackIntake({
    records: queue.feedback,
    returnPathKey: queue.returnPathKey(),
    nodeId,
    ...(cluster ? { router: cluster.router } : {}),
    domains: new FeedbackDomains(config.delivery.feedbackDomain, async () => (await store.identities.list()).flatMap((identity) => (identity.mailFrom ? [identity.mailFrom.domain] : []))),
    deadLetters: new DeadLetterFolder(join(config.dataDir, 'dead-letter')),
    messageIdDomain: config.smtp.messageIdDomain,
    log,
    ...(availableParallelism() > 1 ? { read: (raw: Buffer) => feedbackParsers.read(raw) } : {}),
  });
  const intakeHandlers = createIntakeHandlers(handlers, { intake, maxMessageBytes: config.smtp.maxMessageBytes, log });

  const closeStores = async () => {
    await cluster?.stop();
    queue.close();
    await limiter.close();
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
  let http: Awaited<ReturnType<typeof startHttpApi>>;
  try {
    // Before listening: a start-up problem (an unreadable DKIM key, certificate) must stop the start, not a running gateway.
    await delivery?.start();
    listeners = await startListeners(config.listeners, config.defaultListeners, config.smtp, tls, { submission: handlers, intake: intakeHandlers }, log);
    http = await startHttpApi({ config, store, limiter, queue, statistics, submission, metrics, tls, log });
  } catch (error) {
    await stopListeners(listeners);
    await delivery?.stop();
    await publishing.stop();
    await closeStores();
    throw error;
  }
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
  const listenerNames = () => listeners.map(({ config: listener, port }) => formatListener({ ...listener, port }));
  cluster?.start(intake, { listeners: listenerNames, queueDepth: () => queue.health.depthByState() });
  const stopMaintenance = startLogMaintenance(queue, config.events.retentionHours, log);
  log.info(
    { listeners: listenerNames(), region: config.region, dataDir: config.dataDir, node: nodeId },
    'relaygate listening',
  );

  return {
    listeners,
    async reloadTls() {
      const material = await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log);
      reloadTls(listeners, material);
      http.reloadTls(material);
      log.info('TLS certificates reloaded');
    },
    async stop() {
      await Promise.all([stopListeners(listeners), http.stop()]);
      await feedbackParsers.close();
      await delivery?.stop();
      stopMaintenance();
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      await verifier.stop();
      await publishing.stop();
      await closeStores();
    },
  };
}
