import type { promises as dns } from 'node:dns';
import { domainToASCII } from 'node:url';
import { DeliveryResolutionError } from './delivery-resolution-error.js';
import { classifyLookupFailure, errorCode, type LookupFailure } from './lookup-failure.js';
import { nonPublicAddressReason } from './non-public-address.js';

export interface DeliveryTarget {
  /** MX host name (lower case), or the domain itself for an implicit MX. */
  exchange: string;
  priority: number;
  /** IPv4 addresses first, then IPv6 ones. */
  addresses: string[];
  /** True when the domain has no MX records and its own address records are used (RFC 5321 §5.1). */
  implicit: boolean;
}

export interface ResolveDeliveryTargetsOptions {
  resolver: dns.Resolver;
  allowPrivateAddresses: boolean;
  ipv6?: boolean;
  /**
   * The most addresses returned, in preference order (delivery.maxMxAddresses, as Postfix's smtp_mx_address_limit):
   * every one may cost a connection timeout, and a domain may publish thousands.
   */
  maxAddresses?: number;
  /** Orders MX hosts of equal preference; injectable so tests can pin the shuffle. */
  random?: () => number;
}

/** MX hosts whose addresses are looked up at most, in preference order, however many the domain publishes. */
const MAX_MX_HOSTS_LOOKED_UP = 20;

interface Exchange {
  exchange: string;
  priority: number;
  implicit: boolean;
}

interface ResolvedExchange extends Exchange {
  addresses: string[];
  failures: Array<{ failure: LookupFailure; code: string }>;
}

/**
 * Where to deliver mail for `domain`: its MX hosts by preference (equal preferences shuffled), each with its
 * addresses, `maxAddresses` in all at most. Hosts that have no (allowed) address are left out. Throws a
 * DeliveryResolutionError when nothing is left; its `permanent` flag says whether retrying later can help.
 */
export async function resolveDeliveryTargets(
  domain: string,
  options: ResolveDeliveryTargetsOptions,
): Promise<DeliveryTarget[]> {
  const name = domainToASCII(domain).replace(/\.$/, '');
  if (!name) throw new DeliveryResolutionError('NXDOMAIN', true, `Domain ${domain} is not a valid domain name`);
  const exchanges = (await lookupExchanges(name, options.resolver, options.random ?? Math.random)).slice(0, MAX_MX_HOSTS_LOOKED_UP);
  const maxAddresses = options.maxAddresses ?? Number.POSITIVE_INFINITY;

  const targets: DeliveryTarget[] = [];
  const resolved: ResolvedExchange[] = [];
  const refused: string[] = [];
  let found = 0;
  // In preference order, a few hosts at a time, until there are addresses enough: the rest are never tried.
  for (let next = 0; next < exchanges.length && found < maxAddresses; ) {
    // Each host gives at least one address or none: as many hosts as addresses are still wanted.
    const group = exchanges.slice(next, next + Math.min(maxAddresses - found, MAX_MX_HOSTS_LOOKED_UP));
    next += group.length;
    const answers = await Promise.all(group.map((exchange) => lookupAddresses(exchange, options.resolver, options.ipv6 ?? false)));
    resolved.push(...answers);
    for (const { exchange, priority, implicit, addresses } of answers) {
      const allowed = options.allowPrivateAddresses ? addresses : addresses.filter((address) => {
        const reason = nonPublicAddressReason(address);
        if (reason) refused.push(`${exchange} ${address} is ${reason}`);
        return !reason;
      });
      const kept = allowed.slice(0, maxAddresses - found);
      found += kept.length;
      if (kept.length) targets.push({ exchange, priority, addresses: kept, implicit });
    }
  }
  if (targets.length) return targets;
  throw noTargetError(name, resolved, refused);
}

async function lookupExchanges(domain: string, resolver: dns.Resolver, random: () => number): Promise<Exchange[]> {
  let records: Array<{ exchange: string; priority: number }>;
  try {
    records = await resolver.resolveMx(domain);
  } catch (error) {
    const failure = classifyLookupFailure(error);
    if (failure === 'nxdomain') {
      throw new DeliveryResolutionError('NXDOMAIN', true, `Domain ${domain} does not exist (NXDOMAIN)`);
    }
    if (failure === 'temporary') {
      throw new DeliveryResolutionError(
        'DNS_TEMPORARY',
        false,
        `Temporary DNS failure looking up the MX records of ${domain} (${errorCode(error)})`,
        { cause: error },
      );
    }
    records = [];
  }
  if (records.length === 0) return [{ exchange: domain, priority: 0, implicit: true }];

  // RFC 7505: an MX whose exchange is the root ("." — c-ares gives "") says the domain accepts no mail.
  const usable = records.filter((record) => record.exchange !== '' && record.exchange !== '.');
  if (usable.length === 0) {
    throw new DeliveryResolutionError('NULL_MX', true, `Domain ${domain} has a null MX record (RFC 7505)`);
  }
  return orderByPreference(lowestPriorityPerExchange(usable), random);
}

function lowestPriorityPerExchange(records: Array<{ exchange: string; priority: number }>): Exchange[] {
  const byExchange = new Map<string, Exchange>();
  for (const record of records) {
    const exchange = record.exchange.toLowerCase().replace(/\.$/, '');
    const known = byExchange.get(exchange);
    if (!known || record.priority < known.priority) {
      byExchange.set(exchange, { exchange, priority: record.priority, implicit: false });
    }
  }
  return [...byExchange.values()];
}

/** RFC 5321 §5.1: lowest preference first; hosts of equal preference in random order to spread the load. */
function orderByPreference(exchanges: Exchange[], random: () => number): Exchange[] {
  const shuffled = [...exchanges];
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  // Array.prototype.sort is stable, so the shuffle survives within each preference.
  return shuffled.sort((a, b) => a.priority - b.priority);
}

async function lookupAddresses(exchange: Exchange, resolver: dns.Resolver, ipv6: boolean): Promise<ResolvedExchange> {
  const lookups = [resolver.resolve4(exchange.exchange)];
  if (ipv6) lookups.push(resolver.resolve6(exchange.exchange));
  const results = await Promise.allSettled(lookups);
  const addresses = results.flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
  const failures = results.flatMap((result) =>
    result.status === 'rejected'
      ? [{ failure: classifyLookupFailure(result.reason), code: errorCode(result.reason) }]
      : [],
  );
  return { ...exchange, addresses, failures };
}

function noTargetError(domain: string, resolved: ResolvedExchange[], refused: string[]): DeliveryResolutionError {
  const temporary = resolved.flatMap(({ exchange, failures }) =>
    failures.filter(({ failure }) => failure === 'temporary').map(({ code }) => `${exchange}: ${code}`),
  );
  if (temporary.length) {
    return new DeliveryResolutionError(
      'DNS_TEMPORARY',
      false,
      `Temporary DNS failure looking up the mail hosts of ${domain} (${temporary.join(', ')})`,
    );
  }
  if (refused.length) {
    return new DeliveryResolutionError(
      'PRIVATE_TARGETS_REFUSED',
      true,
      `Mail for ${domain} would go only to non-public addresses, which are refused (${refused.join('; ')})`,
    );
  }
  if (resolved[0]?.implicit) {
    return new DeliveryResolutionError(
      'NO_MX_ADDRESSES',
      true,
      `Domain ${domain} has no MX records and no usable address records`,
    );
  }
  const hosts = resolved.map(({ exchange }) => exchange).join(', ');
  const allNxdomain = resolved.every(({ failures }) => failures.every(({ failure }) => failure === 'nxdomain'));
  return allNxdomain
    ? new DeliveryResolutionError('NO_MX_ADDRESSES', true, `None of the MX hosts of ${domain} exist (${hosts})`)
    : new DeliveryResolutionError('NO_MX_ADDRESSES', false, `None of the MX hosts of ${domain} has an address (${hosts})`);
}
