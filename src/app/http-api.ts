import type { Logger } from 'pino';
import { SecretBox } from '../auth/secret-box.js';
import { SigV4Verifier } from '../auth/sigv4-verifier.js';
import { formatHttpListener } from '../config/http-options.js';
import type { GatewayConfig } from '../config/schema.js';
import { FORWARDING_CONSUMER } from '../feedback/forwarding/feedback-forwarder.js';
import { ApiServer } from '../http/api/api-server.js';
import { GatewayMetrics, METRICS_CONSUMER } from '../http/metrics/gateway-metrics.js';
import { startMetricsServer, type RunningMetricsServer } from '../http/metrics/metrics-server.js';
import type { SendStatisticsStore } from '../queue/send-statistics.js';
import type { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import type { SendLimiter } from '../ratelimit/index.js';
import type { RunningListener } from '../smtp/listeners.js';
import type { TlsMaterial } from '../smtp/tls-material.js';
import type { ControlStore } from '../store/control-store.js';
import type { SubmissionServices } from '../submission/submit-message.js';

/** The event-log consumers whose backlog the metrics report. */
const CONSUMERS = ['suppression-list', FORWARDING_CONSUMER, 'send-statistics', METRICS_CONSUMER];

/** The metrics, when the metrics listener is on. */
export function createGatewayMetrics(config: GatewayConfig, queue: SqliteQueueStore, smtpListeners: () => readonly RunningListener[]): GatewayMetrics | null {
  if (!config.http.metricsListen) return null;
  return new GatewayMetrics({
    smtpConnections: () => smtpListeners().reduce((sum, { server }) => sum + server.connections.size, 0),
    queueDepth: () => queue.health.depthByState(),
    eventBacklog: () => Object.fromEntries(CONSUMERS.map((consumer) => [consumer, queue.events.backlog(consumer)])),
  });
}

export interface HttpApiOptions {
  config: GatewayConfig;
  store: ControlStore;
  limiter: SendLimiter;
  queue: SqliteQueueStore;
  /** GetSendStatistics: the node's, or the fleet's in cluster mode. */
  statistics: SendStatisticsStore;
  submission: SubmissionServices;
  metrics: GatewayMetrics | null;
  tls: TlsMaterial;
  log: Logger;
}

/** Starts the SES API listeners (http.listeners) and the metrics/health listener (http.metricsListen). */
export async function startHttpApi(options: HttpApiOptions): Promise<{ reloadTls(tls: TlsMaterial): void; stop(): Promise<void> }> {
  const { config, log } = options;
  const api =
    config.http.listeners.length > 0
      ? new ApiServer(
          { config, store: options.store, limiter: options.limiter, statistics: options.statistics, submission: options.submission, log },
          new SigV4Verifier(options.store, SecretBox.open(config.http.secretKeyFile), config.region),
          options.metrics,
        )
      : null;
  const running = api ? await api.start(config.http.listeners, options.tls) : [];
  let metricsServer: RunningMetricsServer | null = null;
  try {
    if (options.metrics && config.http.metricsListen) metricsServer = await startMetricsServer(config.http.metricsListen, options.metrics, () => options.queue.health.checkWritable(), log);
  } catch (error) {
    await api?.stop();
    throw error;
  }
  log.info(
    {
      listeners: running.map(({ config: listener, port }) => formatHttpListener({ ...listener, port })),
      metrics: metricsServer && config.http.metricsListen ? `${config.http.metricsListen.host}:${metricsServer.port}` : null,
    },
    'http api listening',
  );
  return {
    reloadTls: (tls) => api?.reloadTls(tls),
    async stop() {
      await Promise.all([api?.stop(), metricsServer?.stop()]);
    },
  };
}
