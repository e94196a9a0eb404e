import { join } from 'node:path';
import type { Logger } from 'pino';
import { openReplayGuard } from '../auth/open-replay-guard.js';
import { SecretBox } from '../auth/secret-box.js';
import { SigV4Verifier } from '../auth/sigv4-verifier.js';
import { SmtpAuthenticator } from '../auth/smtp-authenticator.js';
import { plaintextBlockList } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { DeadLetterFolder } from '../feedback/intake/dead-letter-folder.js';
import { FeedbackDomains } from '../feedback/intake/feedback-domains.js';
import { FeedbackIntake } from '../feedback/intake/feedback-intake.js';
import { FeedbackParserPool } from '../feedback/intake/feedback-parser-pool.js';
import type { FeedbackRouter } from '../feedback/intake/feedback-router.js';
import type { Feedback } from '../feedback/intake/read-feedback.js';
import type { SendStatisticsStore } from '../queue/send-statistics.js';
import { ApiServer, type ApiRequestCounter, type RunningHttpListener } from '../http/api/api-server.js';
import { loadGatewaySigner } from '../delivery/delivery-engine.js';
import { messageSigners } from '../delivery/prepared-message.js';
import { buildSendPolicy } from '../policy/build-send-policy.js';
import { controlStoreDeliverySettings } from './control-store-delivery-settings.js';
import type { Acceptor } from '../queue/message-acceptor.js';
import type { Spool } from '../queue/spool.js';
import type { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import type { SendLimiter } from '../ratelimit/index.js';
import { createIntakeHandlers } from '../smtp/feedback-intake-handlers.js';
import { reloadTls, startListeners, stopAccepting, stopListeners, type RunningListener } from '../smtp/listeners.js';
import type { SessionGate } from '../smtp/session-gate.js';
import type { TlsSessionStore } from '../smtp/tls-session-cache.js';
import { createSubmissionHandlers } from '../smtp/submission-handlers.js';
import type { TlsMaterial } from '../smtp/tls-material.js';
import type { ControlStore } from '../store/control-store.js';
import type { SubmissionObserver } from '../submission/submit-message.js';

/** The stores and services the sessions use: the process's own, or the primary's through a worker's calls. */
export interface SessionStores {
  store: ControlStore;
  queue: SqliteQueueStore;
  /** GetSendStatistics: the node's, or the fleet's in cluster mode. */
  statistics: SendStatisticsStore;
  /** This node's id (message ids, return paths) and, in cluster mode, where feedback for other nodes goes. */
  nodeId: string;
  router?: FeedbackRouter;
  limiter: SendLimiter;
  spool: Spool;
  acceptor: Acceptor;
}

/** How the sessions report to the rest of the node (the metrics) and what they share with it. */
export interface SessionHooks {
  gate: SessionGate;
  /** The node's TLS 1.2 sessions, for resumption by session id on every listener. */
  tlsSessions: TlsSessionStore;
  observe?: SubmissionObserver;
  apiRequests?: ApiRequestCounter;
  /** Threads that parse incoming bounces and complaints; 0 parses on the session's thread. */
  feedbackParserThreads: number;
}

/** The SMTP and HTTP API listeners of one process, and how to reload and stop them. */
export interface RunningSessions {
  listeners: RunningListener[];
  apiListeners: RunningHttpListener[];
  reloadTls(tls: TlsMaterial): void;
  /** Closes the listening sockets only (the first step of a session worker's stop). */
  stopAccepting(): void;
  stop(): Promise<void>;
}

/**
 * Everything that talks to clients: the SMTP listeners (submission and feedback intake) and the SES HTTP API, with the
 * send path up to the durable commit. It runs in the gateway's process, or in each session worker (app/workers).
 */
export async function startSessions(config: GatewayConfig, stores: SessionStores, hooks: SessionHooks, tls: TlsMaterial, log: Logger): Promise<RunningSessions> {
  const { store, limiter, spool, acceptor, statistics, nodeId } = stores;
  // The same keys the delivery engine would use; signing here spreads the work over the session workers.
  const signing = { settings: controlStoreDeliverySettings(store, log), gatewaySigner: loadGatewaySigner(config.delivery.dkim) };
  const submission = {
    smtp: config.smtp,
    nodeId,
    policy: buildSendPolicy(store, limiter, config.region),
    spool,
    acceptor,
    log,
    dkimSigners: (identityAccountId: string, domain: string | null) => messageSigners(signing, identityAccountId, domain),
    ...(hooks.observe ? { observe: hooks.observe } : {}),
  };
  const handlers = createSubmissionHandlers({
    ...submission,
    plaintextNetworks: plaintextBlockList(config.smtp.plaintextNetworks),
    authenticator: new SmtpAuthenticator(store, config.region),
    gate: hooks.gate,
  });
  // Parser threads start on first use.
  const feedbackParsers = new FeedbackParserPool(hooks.feedbackParserThreads, log);
  const intake = createFeedbackIntake(config, stores, log, hooks.feedbackParserThreads > 0 ? (raw) => feedbackParsers.read(raw) : undefined);
  const intakeHandlers = createIntakeHandlers(handlers, { intake, maxMessageBytes: config.smtp.maxMessageBytes, log });

  // Replayed signatures are refused across processes: the guard lives in <dataDir>/replay-guard.db.
  const replays = config.http.listeners.length > 0 ? openReplayGuard(config.dataDir) : null;
  const api = replays
    ? new ApiServer(
        { config, store, limiter, statistics, submission, log },
        new SigV4Verifier(store, SecretBox.open(config.http.secretKeyFile), config.region, replays),
        hooks.apiRequests ?? null,
      )
    : null;
  let listeners: RunningListener[] = [];
  try {
    listeners = await startListeners(config.listeners, config.defaultListeners, config.smtp, tls, { submission: handlers, intake: intakeHandlers }, hooks.tlsSessions, log);
    const apiListeners = api ? await api.start(config.http.listeners, tls, hooks.tlsSessions) : [];
    return {
      listeners,
      apiListeners,
      reloadTls(material) {
        reloadTls(listeners, material);
        api?.reloadTls(material);
      },
      stopAccepting() {
        stopAccepting(listeners);
        api?.stopAccepting();
      },
      async stop() {
        await Promise.all([stopListeners(listeners), api?.stop()]);
        await feedbackParsers.close();
        replays?.close();
      },
    };
  } catch (error) {
    await Promise.all([stopListeners(listeners), api?.stop()]);
    await feedbackParsers.close();
    replays?.close();
    throw error;
  }
}

/**
 * Bounces and complaints to the node's return paths: received by the sessions' intake listeners, and applied by the
 * primary when another node routes one here (cluster mode).
 */
export function createFeedbackIntake(config: GatewayConfig, stores: Pick<SessionStores, 'store' | 'queue' | 'nodeId' | 'router'>, log: Logger, read?: (raw: Buffer) => Promise<Feedback>): FeedbackIntake {
  const { store, queue } = stores;
  return new FeedbackIntake({
    records: queue.feedback,
    returnPathKey: queue.returnPathKey(),
    nodeId: stores.nodeId,
    ...(stores.router ? { router: stores.router } : {}),
    domains: new FeedbackDomains(config.delivery.feedbackDomain, async () => (await store.identities.list()).flatMap((identity) => (identity.mailFrom ? [identity.mailFrom.domain] : []))),
    deadLetters: new DeadLetterFolder(join(config.dataDir, 'dead-letter'), config.smtp.deadLetterMaxBytes),
    messageIdDomain: config.smtp.messageIdDomain,
    log,
    ...(read ? { read } : {}),
  });
}
