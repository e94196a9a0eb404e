import { createServer, type Server } from 'node:http';
import type { Logger } from 'pino';
import type { GatewayMetrics } from './gateway-metrics.js';

export interface RunningMetricsServer {
  server: Server;
  port: number;
  stop(): Promise<void>;
}

export interface MetricsServerHooks {
  /** Brings in the counts kept elsewhere before a scrape renders them. */
  collect: () => Promise<void>;
  /** Resolves when the gateway is ready: the queue database takes a write transaction, and in cluster mode Redis answers. */
  checkReady: () => Promise<void>;
}

/**
 * GET /metrics (Prometheus text), /healthz (the process answers) and /readyz (`checkReady` resolves): unauthenticated,
 * so it listens on loopback unless the operator says otherwise.
 */
export async function startMetricsServer(listen: { host: string; port: number }, metrics: GatewayMetrics, { collect, checkReady }: MetricsServerHooks, log: Logger): Promise<RunningMetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    const send = (status: number, type: string, text: string) => {
      response.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text) });
      response.end(request.method === 'HEAD' ? undefined : text);
    };
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/metrics') {
      collect().then(
        () => send(200, 'text/plain; version=0.0.4; charset=utf-8', metrics.registry.render()),
        (error: unknown) => send(500, 'text/plain', `metrics not collected: ${(error as Error).message}\n`),
      );
      return;
    }
    if (path === '/healthz') return send(200, 'text/plain', 'ok\n');
    if (path === '/readyz') {
      checkReady().then(
        () => send(200, 'text/plain', 'ready\n'),
        (error: unknown) => {
          log.warn({ err: error }, 'readiness check failed');
          send(503, 'text/plain', `not ready: ${(error as Error).message}\n`);
        },
      );
      return;
    }
    return send(404, 'text/plain', 'not found\n');
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : listen.port);
    });
  });
  server.on('error', (error) => log.warn({ err: error }, 'metrics listener error'));
  return {
    server,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
