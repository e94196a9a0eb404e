import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { controlStoreDeliverySettings } from './control-store-delivery-settings.js';
import { SmtpAuthenticator } from '../auth/smtp-authenticator.js';
import { plaintextBlockList } from '../config/load.js';
import { formatListener } from '../config/listen-spec.js';
import type { GatewayConfig } from '../config/schema.js';
import { DeliveryEngine } from '../delivery/delivery-engine.js';
import { createResolver } from '../delivery/mx/index.js';
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
import { loadTlsMaterial } from '../smtp/tls-material.js';
import { SqliteControlStore } from '../store/sqlite/sqlite-control-store.js';

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
  // Delivery does not read identities and configuration sets yet: no identity DKIM signature or custom MAIL FROM,
  // and every message gets SES's configuration-set defaults (TLS Optional, the default IP pool).
  const delivery = config.delivery.enabled ? new DeliveryEngine({ config, queue, spool, settings: controlStoreDeliverySettings(store), log }) : null;
  if (delivery) acceptor.onCommitted(() => delivery.wake());

  const handlers = createSubmissionHandlers({
    smtp: config.smtp,
    plaintextNetworks: plaintextBlockList(config.smtp.plaintextNetworks),
    authenticator: new SmtpAuthenticator(store, config.region),
    throttle: new AuthThrottle(config.authThrottle),
    policy: buildSendPolicy(store, limiter, config.region),
    spool,
    acceptor,
    log,
  });

  // Parser threads (started on first use) for incoming feedback: every core but the one the sessions and commits run
  // on; with a single core the main thread parses.
  const feedbackParsers = new FeedbackParserPool(availableParallelism() - 1, log);
  const intake = new FeedbackIntake({
    records: queue.feedback,
    returnPathKey: queue.returnPathKey(),
    domains: new FeedbackDomains(config.delivery.feedbackDomain, async () => (await store.identities.list()).flatMap((identity) => (identity.mailFrom ? [identity.mailFrom.domain] : []))),
    deadLetters: new DeadLetterFolder(join(config.dataDir, 'dead-letter')),
    messageIdDomain: config.smtp.messageIdDomain,
    log,
    ...(availableParallelism() > 1 ? { read: (raw: Buffer) => feedbackParsers.read(raw) } : {}),
  });
  const intakeHandlers = createIntakeHandlers(handlers, { intake, maxMessageBytes: config.smtp.maxMessageBytes, log });

  const tls = await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log);
  let listeners: RunningListener[];
  try {
    listeners = await startListeners(config.listeners, config.defaultListeners, config.smtp, tls, { submission: handlers, intake: intakeHandlers }, log);
  } catch (error) {
    queue.close();
    await limiter.close();
    await store.close();
    throw error;
  }
  const verifier = new IdentityVerifier(store, createResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs }), mailFromTargets(config).feedbackHost, config.verification, log);
  verifier.start();
  await delivery?.start();
  log.info(
    { listeners: listeners.map(({ config: listener, port }) => formatListener({ ...listener, port })), region: config.region, dataDir: config.dataDir },
    'relaygate listening',
  );

  return {
    listeners,
    async reloadTls() {
      reloadTls(listeners, await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log));
      log.info('TLS certificates reloaded');
    },
    async stop() {
      await stopListeners(listeners);
      await feedbackParsers.close();
      await delivery?.stop();
      await verifier.stop();
      queue.close();
      await limiter.close();
      await store.close();
    },
  };
}
