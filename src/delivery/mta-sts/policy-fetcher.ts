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

/**
 * The MTA-STS policy fetch of RFC 8461 §3.3: the policy host is looked up through the delivery resolver, the
 * certificate must be valid for mta-sts.DOMAIN, redirects are not followed (any status but 200 fails), the policy must
 * be served as text/plain, and the body and the time it may take are bounded so that one recipient domain cannot hold the delivery process.
 */
export function createPolicyFetcher(options: PolicyFetcherOptions): PolicyFetcher {
  const port = options.port ?? 443;
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const ca = options.ca && [...rootCertificates, ...options.ca];

  return async (domain) => {
    const hostname = `mta-sts.${domainToASCII(domain)}`;
    const address = await firstAddress(options.resolver, hostname);
    if (!address) return false;
    const body = await new Promise<string>((resolve, reject) => {
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
            clearTimeout(deadline);
            resolve(Buffer.concat(chunks).toString('utf8'));
          });
          res.on('error', fail);
        },
      );
      const deadline = setTimeout(() => fail(new Error(`MTA-STS policy fetch: no complete answer within ${timeoutMs} ms`)), timeoutMs);
      function fail(error: Error): void {
        clearTimeout(deadline);
        req.destroy();
        reject(error);
      }
      function tooLarge(): Error {
        return new Error(`MTA-STS policy fetch: the policy is larger than ${maxBytes} bytes`);
      }
      req.on('error', fail);
      req.end();
    });
    return parsePolicyText(body);
  };
}

async function firstAddress(resolver: dns.Resolver, hostname: string): Promise<string | undefined> {
  for (const lookup of [() => resolver.resolve4(hostname), () => resolver.resolve6(hostname)]) {
    try {
      const [address] = await lookup();
      if (address) return address;
    } catch (error) {
      if (!NO_SUCH_HOST.has((error as NodeJS.ErrnoException).code ?? '')) throw error;
    }
  }
  return undefined;
}
