import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { EventDispatcher } from '../events/dispatch/event-dispatcher.js';
import { loadSigningMaterial, SnsSigner } from '../events/destinations/sns-signing.js';
import { startCertificateServer } from '../http/certificate-server.js';
import type { EventLog } from '../queue/event-log.js';
import type { CertificateSet } from '../smtp/tls-material.js';
import type { ControlStore } from '../store/control-store.js';
import { controlStoreEventSettings } from './control-store-event-settings.js';

/** Destinations and topics are read again this often: a change made with the CLI applies within it. */
const REFRESH_MS = 5_000;

export interface EventPublishing {
  /** The URL webhook envelopes name as SigningCertURL. */
  signingCertUrl: string;
  stop(): Promise<void>;
}

/** Where subscribers reach the certificate listener, unless events.certificateUrlBase says otherwise. */
function listenerUrlBase(config: GatewayConfig, port: number): string {
  const { host } = config.events.httpListen;
  const reachable = host === '0.0.0.0' || host === '::' ? config.smtp.hostname : host;
  return `${config.events.httpTls ? 'https' : 'http'}://${isIP(reachable) === 6 ? `[${reachable}]` : reachable}:${port}/`;
}

/** Starts the certificate listener and the dispatcher that sends the event log to destinations and notification topics. */
export async function startEventPublishing(
  config: GatewayConfig,
  store: ControlStore,
  events: EventLog,
  tls: CertificateSet,
  log: Logger,
): Promise<EventPublishing> {
  const material = await loadSigningMaterial(config.dataDir, config.smtp.hostname);
  const server = await startCertificateServer(
    { ...config.events.httpListen, tls: config.events.httpTls ? tls : null, certificateName: material.certificateName, certificatePem: material.certificatePem },
    log,
  );
  const signer = new SnsSigner(material, config.events.certificateUrlBase ?? listenerUrlBase(config, server.port));
  const dispatcher = new EventDispatcher(
    events,
    controlStoreEventSettings(store),
    {
      webhook: { signer, timeoutMs: config.events.requestTimeoutMs, concurrency: config.events.webhookConcurrency },
      file: config.events.file,
    },
    { region: config.region, batchSize: config.events.batchSize, retry: config.events.retry, pollMs: config.events.pollMs, refreshMs: REFRESH_MS },
    log,
  );
  try {
    await dispatcher.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  log.info({ signingCertUrl: signer.signingCertUrl }, 'event publishing started');
  return {
    signingCertUrl: signer.signingCertUrl,
    async stop() {
      await dispatcher.stop();
      await server.close();
    },
  };
}
