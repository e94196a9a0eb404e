import type { promises as dns } from 'node:dns';
import { request } from 'node:https';
import { rootCertificates } from 'node:tls';
import { domainToASCII } from 'node:url';
import { parsePolicyText, type PublishedPolicy } from './policy-text.js';

/** Fetches and parses https://mta-sts.DOMAIN/.well-known/mta-sts.txt; false when the policy host does not exist. */
export type PolicyFetcher = (domain: string) => Promise<PublishedPolicy | false>;

export interface PolicyFetcherOptions {
  resolver: dns.Resolver;
  /** 443 in production; tests serve the policy elsewhere. */
  port?: number;
  /** Extra trusted CA certificates (PEM), added to Node's bundle; tests pass their own. */
  ca?: string[];
  /** The whole fetch, from connecting to the last byte, must finish within this. */
  timeoutMs?: number;
  /** A larger body is refused unread: a policy is a few hundred bytes, and any recipient domain chooses its size. */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const DEFAULT_MAX_BYTES = 64 * 1024;
const POLICY_PATH = '/.well-known/mta-sts.txt';
const NO_SUCH_HOST = new Set(['ENOTFOUND', 'ENODATA']);
/** Addresses of the policy host tried in turn while they cannot be connected to (refused, no route, no answer). */
const MAX_ADDRESSES = 4;

/**
 * The MTA-STS policy fetch of RFC 8461 §3.3: the policy host is looked up through the delivery resolver (its addresses
 * tried in turn while they refuse the connection, cannot be routed to or do not answer it), the certificate must be
 * valid for mta-sts.DOMAIN, redirects are not followed (any status but 200 fails), the policy must be served as
 * text/plain, and the body and the time it may take are bounded so that one recipient domain cannot hold the delivery
 * process.
 */
export function createPolicyFetcher(options: PolicyFetcherOptions): PolicyFetcher {
  const port = options.port ?? 443;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const ca = options.ca && [...rootCertificates, ...options.ca];

  return async (domain) => {
    const hostname = `mta-sts.${domainToASCII(domain)}`;
    const addresses = await policyHostAddresses(options.resolver, hostname);
    if (addresses.length === 0) return false;
    const deadline = Date.now() + timeoutMs;
    // The next address is tried only when this one could not be connected to: an answer, even a failed TLS handshake
    // or a 404, is the policy host's answer.
    let unreachable: Error | undefined;
    for (const [index, address] of addresses.entries()) {
      // An address whose packets are dropped never refuses: it gets its share of the time left to connect, so that the
      // addresses after it are tried too. The last one has the rest of the deadline.
      const left = addresses.length - index;
      const connectWithinMs = left > 1 ? Math.floor((deadline - Date.now()) / left) : null;
      try {
        return parsePolicyText(await fetchBody(address, hostname, { port, ca, maxBytes, timeoutMs, deadline, connectWithinMs }));
      } catch (error) {
        if (!(error instanceof AddressUnreachable)) throw error;
        unreachable = error.cause;
      }
    }
    throw unreachable;
  };
}

/** The connection to one address of the policy host was never established: refused, no route, or no answer in time. */
class AddressUnreachable extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

function fetchBody(
  address: string,
  hostname: string,
  { port, ca, maxBytes, timeoutMs, deadline, connectWithinMs }: { port: number; ca: string[] | undefined; maxBytes: number; timeoutMs: number; deadline: number; connectWithinMs: number | null },
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let connected = false;
    const req = request(
      {
        host: address,
        port,
        servername: hostname,
        path: POLICY_PATH,
        headers: { host: hostname },
        rejectUnauthorized: true,
        ca,
        agent: false,
      },
      (res) => {
        const declared = Number(res.headers['content-length']);
        if (res.statusCode !== 200) return fail(new Error(`MTA-STS policy fetch: HTTP status ${res.statusCode}`));
        // RFC 8461 §3.3: senders SHOULD check for text/plain, so that a web server that lets its users put files at
        // any path (an HTML page, an image) cannot be taken for the domain's policy.
        const mediaType = (res.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
        if (mediaType !== 'text/plain') return fail(new Error(`MTA-STS policy fetch: served as ${mediaType === '' ? 'no media type' : mediaType}, not text/plain`));
        if (declared > maxBytes) return fail(tooLarge());
        const chunks: Buffer[] = [];
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) fail(tooLarge());
          else chunks.push(chunk);
        });
        res.on('end', () => {
          clearTimeout(timer);
          resolve(Buffer.concat(chunks).toString('utf8'));
        });
        res.on('error', fail);
      },
    );
    const timer = setTimeout(() => fail(new Error(`MTA-STS policy fetch: no complete answer within ${timeoutMs} ms`)), Math.max(0, deadline - Date.now()));
    const connectTimer =
      connectWithinMs === null
        ? undefined
        : setTimeout(() => fail(new AddressUnreachable(new Error(`MTA-STS policy fetch: no connection to ${address} within ${connectWithinMs} ms`))), connectWithinMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      clearTimeout(connectTimer);
      req.destroy();
      reject(error);
    }
    function tooLarge(): Error {
      return new Error(`MTA-STS policy fetch: the policy is larger than ${maxBytes} bytes`);
    }
    req.on('socket', (socket) =>
      socket.once('connect', () => {
        connected = true;
        clearTimeout(connectTimer);
      }),
    );
    req.on('error', (error) => fail(connected ? error : new AddressUnreachable(error)));
    req.end();
  });
}

/** The policy host's IPv4 addresses, or its IPv6 ones when it has none, at most MAX_ADDRESSES of them. */
async function policyHostAddresses(resolver: dns.Resolver, hostname: string): Promise<string[]> {
  for (const lookup of [() => resolver.resolve4(hostname), () => resolver.resolve6(hostname)]) {
    try {
      const addresses = await lookup();
      if (addresses.length > 0) return addresses.slice(0, MAX_ADDRESSES);
    } catch (error) {
      if (!NO_SUCH_HOST.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  return [];
}
