import type { Logger } from 'pino';
import { controlStoreDeliverySettings } from './control-store-delivery-settings.js';
import { SmtpAuthenticator } from '../auth/smtp-authenticator.js';
import { plaintextBlockList } from '../config/load.js';
import { formatListener } from '../config/listen-spec.js';
import type { GatewayConfig } from '../config/schema.js';
import { DeliveryEngine } from '../delivery/delivery-engine.js';
import { EventConsumer } from '../events/event-consumer.js';
import { suppressionRecorder } from '../feedback/suppression/suppression-recorder.js';
import { statisticsRecorder } from '../feedback/statistics/statistics-recorder.js';
import { createResolver } from '../delivery/mx/index.js';
import { FeedbackForwarder } from '../feedback/forwarding/feedback-forwarder.js';
import { controlStoreForwardingSettings } from '../feedback/forwarding/forwarding-settings.js';
import { IdentityVerifier } from '../identity/identity-verifier.js';
import { mailFromTargets } from '../identity/mail-from-targets.js';
import { buildSendPolicy } from '../policy/build-send-policy.js';
import { openSendLimiter } from '../ratelimit/open-send-limiter.js';
import { MessageAcceptor } from '../queue/message-acceptor.js';
import { Spool } from '../queue/spool.js';
import { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import { AuthThrottle } from '../smtp/auth-throttle.js';
import { reloadTls, startListeners, stopListeners, type RunningListener } from '../smtp/listeners.js';
import { createSubmissionHandlers } from '../smtp/submission-handlers.js';
import { loadTlsMaterial } from '../smtp/tls-material.js';
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

  const metrics = createGatewayMetrics(config, queue, () => listeners);
  const submission = { smtp: config.smtp, policy: buildSendPolicy(store, limiter, config.region), spool, acceptor, log, ...(metrics ? { observe: metrics.submissions } : {}) };
  const handlers = createSubmissionHandlers({
    ...submission,
    plaintextNetworks: plaintextBlockList(config.smtp.plaintextNetworks),
    authenticator: new SmtpAuthenticator(store, config.region),
    throttle: new AuthThrottle(config.authThrottle),
  });

  const tls = await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log);
  let listeners: RunningListener[] = [];
  let http: Awaited<ReturnType<typeof startHttpApi>>;
  try {
    listeners = await startListeners(config.listeners, config.defaultListeners, config.smtp, tls, handlers, log);
    http = await startHttpApi({ config, store, limiter, queue, submission, metrics, tls, log });
  } catch (error) {
    await stopListeners(listeners);
    queue.close();
    await limiter.close();
    await store.close();
    throw error;
  }
  const verifier = new IdentityVerifier(store, createResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs }), mailFromTargets(config).feedbackHost, config.verification, log);
  verifier.start();
  // Consumers of the event log: each follows new events from its own cursor.
  const consumers = [
    new EventConsumer(queue.events, suppressionRecorder(store), log),
    new EventConsumer(queue.events, forwarder, log),
    new EventConsumer(queue.events, statisticsRecorder({ statistics: queue.statistics, store, config: config.reputation, log }), log),
    ...(metrics ? [new EventConsumer(queue.events, metrics.deliveryEvents, log)] : []),
  ];
  for (const consumer of consumers) consumer.start();
  await delivery?.start();
  log.info(
    { listeners: listeners.map(({ config: listener, port }) => formatListener({ ...listener, port })), region: config.region, dataDir: config.dataDir },
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
      await delivery?.stop();
      await Promise.all(consumers.map((consumer) => consumer.stop()));
      await verifier.stop();
      queue.close();
      await limiter.close();
      await store.close();
    },
  };
}
