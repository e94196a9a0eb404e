import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { createTestCertificate } from './test-certificate.js';

export interface PolicyRequest {
  /** The TLS server name the client asked for. */
  servername: string | false | null;
  host: string | undefined;
  path: string | undefined;
}

/** Answers one request for a policy host; the default writes the host's policy text with status 200. */
export type PolicyResponder = (response: ServerResponse, request: PolicyRequest) => void;

export interface TestPolicyServer {
  port: number;
  /** PEM of the server's self-signed certificate, for the fetcher's `ca`. */
  certificate: string;
  requests: PolicyRequest[];
  /** Policy text served for mta-sts.DOMAIN, by DOMAIN. */
  policies: Map<string, string>;
  /** Replaces the default answer until set back to undefined. */
  respond: PolicyResponder | undefined;
  close(): Promise<void>;
}

/**
 * An HTTPS server for MTA-STS policies (the mta-sts.DOMAIN hosts of RFC 8461 §3.3) on `host`, with one certificate
 * valid for the policy hosts of `domains`, so the fetcher's name check is exercised for real.
 */
export async function startPolicyServer(host: string, domains: string[]): Promise<TestPolicyServer> {
  const { key, cert } = await createTestCertificate(domains.map((domain) => `mta-sts.${domain}`));
  const state: TestPolicyServer = {
    port: 0,
    certificate: cert,
    requests: [],
    policies: new Map(),
    respond: undefined,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer({ key, cert }, (req, res) => {
    const request: PolicyRequest = {
      servername: (req.socket as TLSSocket).servername,
      host: req.headers.host,
      path: req.url,
    };
    state.requests.push(request);
    if (state.respond) return state.respond(res, request);
    const policy = state.policies.get((request.host ?? '').replace(/^mta-sts\./, ''));
    if (policy === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'text/plain' }).end(policy);
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.listen(0, host);
  await once(server, 'listening');
  state.port = (server.address() as AddressInfo).port;
  return state;
}
