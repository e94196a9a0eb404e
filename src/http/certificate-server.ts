import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError } from '../config/config-error.js';
import type { CertificateSet } from '../smtp/tls-material.js';

export interface CertificateServerOptions {
  host: string;
  port: number;
  /** Key and certificate to serve over HTTPS; plain HTTP without them. */
  tls: CertificateSet | null;
  /** The file name the certificate is served under (`/<name>`). */
  certificateName: string;
  certificatePem: string;
}

export interface CertificateServer {
  /** The bound port (the configured one, or the one picked for port 0). */
  port: number;
  close(): Promise<void>;
}

const UNSUBSCRIBE_ANSWER = 'relaygate: event destinations and notification topics are changed by the operator (relaygate configset update, relaygate identity update); nothing was changed.\n';

/** The request's path and query; null for a target that is no URL path ("//", "//a:b"), which the WHATWG parser rejects. */
function requestTarget(target: string | undefined): URL | null {
  try {
    return new URL(target ?? '/', 'http://localhost');
  } catch {
    return null;
  }
}

/**
 * The small HTTP(S) listener that serves the certificate webhook subscribers verify signatures with (SNS's
 * SigningCertURL). The UnsubscribeURL of the envelopes points here too; it changes nothing and says so.
 */
export async function startCertificateServer(options: CertificateServerOptions, log: Logger): Promise<CertificateServer> {
  const handler: http.RequestListener = (request, response) => {
    const url = requestTarget(request.url);
    if (!url) {
      response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('bad request target\n');
    } else if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { Allow: 'GET, HEAD' }).end();
    } else if (url.pathname === `/${options.certificateName}`) {
      response.writeHead(200, { 'Content-Type': 'application/x-pem-file', 'Cache-Control': 'max-age=86400' }).end(options.certificatePem);
    } else if (url.pathname === '/' && url.searchParams.get('Action') === 'Unsubscribe') {
      response.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end(UNSUBSCRIBE_ANSWER);
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    }
  };
  const server = options.tls ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, handler) : http.createServer(handler);
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(new ConfigError('events.httpListen', `cannot listen on ${options.host}:${options.port}: ${error.message}`)));
    server.listen(options.port, options.host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  server.on('error', (error) => log.error({ err: error }, 'certificate listener error'));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
