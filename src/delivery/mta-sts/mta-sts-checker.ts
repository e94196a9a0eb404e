import type { promises as dns } from 'node:dns';
import type { DNSResolver } from 'mailauth';
import { resolvePolicy, validateMx } from 'mailauth/lib/mta-sts.js';
import { createPolicyFetcher, type PolicyFetcher } from './policy-fetcher.js';
import type { PublishedPolicy } from './policy-text.js';

export type MtaStsMode = 'enforce' | 'testing' | 'none';

export interface MtaStsPolicy {
  mode: MtaStsMode;
  /** MX patterns as published; "*." matches one leftmost label. */
  mx: string[];
}

export interface MxVerdict {
  /** False only when an enforce policy does not list the MX: delivery there must not happen. */
  allowed: boolean;
  mode: MtaStsMode;
  /** False when a testing or enforce policy does not list the MX; in testing mode that is only reported (TLSRPT). */
  mxMatches: boolean;
}

export interface MtaStsCheckerOptions {
  resolver: dns.Resolver;
  /** Defaults to the bounded HTTPS fetch of policy-fetcher.ts, which resolves the policy host through `resolver`. */
  fetchPolicy?: PolicyFetcher;
  now?: () => number;
  /** How long a cached policy is trusted before the `_mta-sts` TXT id is looked up again. */
  recheckIntervalMs?: number;
  /** After a failed policy fetch, how long to wait before fetching the same policy id again. */
  fetchRetryMs?: number;
  /** How many domains each of the checker's maps (policies, failed fetches, domains without one) remembers. */
  maxDomains?: number;
}

export interface MtaStsChecker {
  /** The policy that applies to mail for `domain`, or null when it has none. */
  policyFor(domain: string): Promise<MtaStsPolicy | null>;
  allows(domain: string, mxHostname: string): Promise<MxVerdict>;
}

interface CachedPolicy {
  id: string;
  policy: MtaStsPolicy;
  expiresAt: number;
  checkedAt: number;
}

const DEFAULT_RECHECK_INTERVAL_MS = 60_000;
const DEFAULT_MAX_DOMAINS = 100_000;
const DEFAULT_FETCH_RETRY_MS = 5 * 60_000;

/**
 * MTA-STS (RFC 8461) policy discovery with an in-memory cache per domain. The policy is fetched again only when the
 * TXT record announces a new id or the cached copy outlived its max_age. When no live policy can be had (no TXT
 * record, DNS failure, fetch failure) an unexpired cached policy keeps applying, as RFC 8461 §5.1 requires.
 *
 * mailauth's getPolicy is not used: it cannot take an injected fetcher, and (4.13.3) it re-fetches a policy whose id
 * is unchanged while it has not expired yet and "renews" it without fetching once it has.
 */
export function createMtaStsChecker(options: MtaStsCheckerOptions): MtaStsChecker {
  const resolve: DNSResolver = (name, rrtype) => options.resolver.resolve(name, rrtype) as Promise<string[][]>;
  const fetchPolicy = options.fetchPolicy ?? createPolicyFetcher({ resolver: options.resolver });
  const now = options.now ?? Date.now;
  const recheckIntervalMs = options.recheckIntervalMs ?? DEFAULT_RECHECK_INTERVAL_MS;
  const fetchRetryMs = options.fetchRetryMs ?? DEFAULT_FETCH_RETRY_MS;
  const remember = rememberUpTo(options.maxDomains ?? DEFAULT_MAX_DOMAINS);
  const cache = new Map<string, CachedPolicy>();
  const failedFetches = new Map<string, { id: string; retryAt: number }>();
  const inFlight = new Map<string, Promise<MtaStsPolicy | null>>();
  /** When a domain without a usable policy was last asked about: most have none, and asking per message floods DNS. */
  const withoutPolicy = new Map<string, number>();

  async function discover(domain: string): Promise<MtaStsPolicy | null> {
    const cached = cache.get(domain);
    const valid = cached && cached.expiresAt > now() ? cached : undefined;
    if (valid) {
      if (now() - valid.checkedAt < recheckIntervalMs) return valid.policy;
      valid.checkedAt = now();
    } else {
      const askedAt = withoutPolicy.get(domain);
      if (askedAt !== undefined && now() - askedAt < recheckIntervalMs) return null;
      remember(withoutPolicy, domain, now());
    }

    let id: string | false;
    try {
      id = await resolvePolicy(domain, { resolver: resolve });
    } catch {
      return valid?.policy ?? null;
    }
    if (!id) return valid?.policy ?? null;
    if (valid?.id === id) return valid.policy;
    const failed = failedFetches.get(domain);
    if (failed?.id === id && failed.retryAt > now()) return valid?.policy ?? null;

    let fetched: PublishedPolicy | false;
    try {
      fetched = await fetchPolicy(domain);
    } catch {
      fetched = false;
    }
    if (!fetched) {
      remember(failedFetches, domain, { id, retryAt: now() + fetchRetryMs });
      return valid?.policy ?? null;
    }
    failedFetches.delete(domain);
    withoutPolicy.delete(domain);
    const policy: MtaStsPolicy = { mode: fetched.mode, mx: fetched.mx };
    remember(cache, domain, { id, policy, expiresAt: now() + fetched.maxAge * 1000, checkedAt: now() });
    return policy;
  }

  function policyFor(domain: string): Promise<MtaStsPolicy | null> {
    const key = domain.toLowerCase().replace(/\.$/, '');
    let pending = inFlight.get(key);
    if (!pending) {
      pending = discover(key).finally(() => inFlight.delete(key));
      inFlight.set(key, pending);
    }
    return pending;
  }

  return {
    policyFor,
    async allows(domain, mxHostname) {
      const policy = await policyFor(domain);
      if (!policy || policy.mode === 'none') return { allowed: true, mode: 'none', mxMatches: true };
      const mxMatches = listsMx(policy, mxHostname);
      return { allowed: mxMatches || policy.mode === 'testing', mode: policy.mode, mxMatches };
    },
  };
}

/**
 * Sets a map entry as the newest, dropping the oldest one when the map is full: recipients choose the domains, so
 * the maps must not grow without bound, and a policy seen long ago is the cheapest to fetch again.
 */
function rememberUpTo(limit: number) {
  return <V>(map: Map<string, V>, key: string, value: V): void => {
    map.delete(key);
    if (map.size >= limit) map.delete(map.keys().next().value as string);
    map.set(key, value);
  };
}

function listsMx(policy: MtaStsPolicy, mxHostname: string): boolean {
  const host = mxHostname.toLowerCase().replace(/\.$/, '');
  return policy.mx.some((pattern) => {
    const { valid, match } = validateMx(host, { mode: policy.mode, mx: [pattern] });
    // mailauth lets "*.example.com" match names of any depth; RFC 8461 §4.1 allows one leftmost label only.
    return valid && !(match?.startsWith('.') && host.slice(0, -match.length).includes('.'));
  });
}
