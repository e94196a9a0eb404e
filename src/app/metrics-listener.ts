import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { FORWARDING_CONSUMER } from '../feedback/forwarding/feedback-forwarder.js';
import { GatewayMetrics, METRICS_CONSUMER } from '../http/metrics/gateway-metrics.js';
import { startMetricsServer } from '../http/metrics/metrics-server.js';
import type { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import type { ClusterNode } from './cluster-node.js';

/** The event-log consumers whose backlog the metrics report. */
const CONSUMERS = ['suppression-list', FORWARDING_CONSUMER, 'send-statistics', METRICS_CONSUMER];

/** The metrics, when the metrics listener is on. */
export function createGatewayMetrics(config: GatewayConfig, queue: SqliteQueueStore, smtpConnections: () => number): GatewayMetrics | null {
  if (!config.http.metricsListen) return null;
  return new GatewayMetrics({
    smtpConnections,
    queueDepth: () => queue.health.depthByState(),
    eventBacklog: () => Object.fromEntries(CONSUMERS.map((consumer) => [consumer, queue.events.backlog(consumer)])),
  });
}

/**
 * Starts the metrics/health listener (http.metricsListen) in the primary process, which has every process's counts.
 * Ready: the queue database takes a write, and in cluster mode (`cluster`) Redis answers. Each scrape first waits for
 * `collect` (the session workers' counts), so it includes every decision made before it.
 */
export async function startMetricsListener(
  config: GatewayConfig,
  metrics: GatewayMetrics | null,
  collect: () => Promise<void>,
  queue: SqliteQueueStore,
  cluster: Pick<ClusterNode, 'reachable'> | null,
  log: Logger,
): Promise<{ address: string; stop(): Promise<void> } | undefined> {
  const listen = config.http.metricsListen;
  if (!metrics || !listen) return undefined;
  const checkReady = async () => {
    queue.health.checkWritable();
    await cluster?.reachable();
  };
  const server = await startMetricsServer(listen, metrics, { collect, checkReady }, log);
  return { address: `${listen.host}:${server.port}`, stop: () => server.stop() };
}
