import { domainOf } from '../message/addresses.js';
import type { Identity, IdentityStore } from '../store/identities.js';

/** Statuses that may send: "TemporaryFailure" is the grace period while a re-check fails. */
export const canSend = (identity: Identity): boolean => identity.status === 'Success' || identity.status === 'TemporaryFailure';

/** The longest domain name (RFC 1035) and so the longest identity name: nothing longer can be covered by one. */
const MAX_DOMAIN_LENGTH = 253;

/**
 * The domain identities that can cover a domain, most specific first: the domain itself, then each parent (not the
 * TLD). None for a domain longer than any identity can be: a sender's 64 KB domain made 32,000 candidates of up to
 * 64 KB each (45 s and a gigabyte).
 */
export function domainCandidates(domain: string): string[] {
  if (domain.length > MAX_DOMAIN_LENGTH) return [];
  const labels = domain.toLowerCase().split('.');
  return labels.slice(0, -1).map((_, i) => labels.slice(i).join('.'));
}

/**
 * The names an address can be verified under, most specific first: the address without its
 * `+label` (local part as written; the domain is case-insensitive), then its domain and each parent.
 */
export function identityCandidates(address: string): string[] {
  const at = address.lastIndexOf('@');
  const domain = domainOf(address);
  const candidates = domainCandidates(domain);
  return at > 0 ? [`${address.slice(0, at).replace(/\+.*$/, '')}@${domain}`, ...candidates] : candidates;
}

/** For each name, the most specific of its candidate identities that the account has verified, with one store lookup for all. */
async function resolveCandidates(store: IdentityStore, accountId: string, candidatesByName: Map<string, string[]>): Promise<Map<string, Identity>> {
  const names = [...new Set([...candidatesByName.values()].flat())];
  const verified = new Map((await store.findByNames(accountId, names)).filter(canSend).map((identity) => [identity.name, identity]));
  const resolved = new Map<string, Identity>();
  for (const [name, candidates] of candidatesByName) {
    const match = candidates.map((candidate) => verified.get(candidate)).find((identity) => identity !== undefined);
    if (match) resolved.set(name, match);
  }
  return resolved;
}

/**
 * Finds, for addresses, the most specific verified identity of an account that covers each one
 * (address, then domain, then parent domains).
 */
export function resolveIdentities(store: IdentityStore, accountId: string, addresses: readonly string[]): Promise<Map<string, Identity>> {
  return resolveCandidates(store, accountId, new Map(addresses.map((address) => [address, identityCandidates(address)])));
}

/** The most specific verified domain identity of an account that covers a domain (the domain, then its parents); address identities are not considered. */
export async function resolveDomainIdentity(store: IdentityStore, accountId: string, domain: string): Promise<Identity | undefined> {
  return (await resolveCandidates(store, accountId, new Map([[domain, domainCandidates(domain)]]))).get(domain);
}
