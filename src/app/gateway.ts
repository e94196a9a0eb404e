import type { Logger } from 'pino';
import { SmtpAuthenticator } from '../auth/smtp-authenticator.js';
import { plaintextBlockList } from '../config/load.js';
import { formatListener } from '../config/listen-spec.js';
import type { GatewayConfig } from '../config/schema.js';
import { SendPolicy } from '../policy/send-policy.js';
import { credentialStillValid } from '../policy/steps/credential-still-valid.js';
import { MessageAcceptor } from '../queue/message-acceptor.js';
import { Spool } from '../queue/spool.js';
import { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import { AuthThrottle } from '../smtp/auth-throttle.js';
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
  const spool = new Spool(config.dataDir);
  const acceptor = new MessageAcceptor(spool, queue, log);
  const removed = await acceptor.removeOrphans(await spool.listFiles());
  if (removed > 0) log.warn({ files: removed }, 'removed body files of messages that were never acknowledged (crash before commit)');

  const handlers = createSubmissionHandlers({
    smtp: config.smtp,
    plaintextNetworks: plaintextBlockList(config.smtp.plaintextNetworks),
    authenticator: new SmtpAuthenticator(store, config.region),
    throttle: new AuthThrottle(config.authThrottle),
    policy: new SendPolicy([credentialStillValid(store)]),
    spool,
    acceptor,
    log,
  });

  const tls = await loadTlsMaterial(config.tls, config.dataDir, config.smtp.hostname, log);
  let listeners: RunningListener[];
  try {
    listeners = await startListeners(config.listeners, config.defaultListeners, config.smtp, tls, handlers, log);
  } catch (error) {
    queue.close();
    await store.close();
    throw error;
  }
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
      queue.close();
      await store.close();
    },
  };
}
