import type { Identity, IdentityStore } from '../store/identities.js';
import { identityCandidates } from './addresses.js';

/** Statuses that may send: "TemporaryFailure" is the grace period while a re-check fails. */
export const canSend = (identity: Identity): boolean => identity.status === 'Success' || identity.status === 'TemporaryFailure';

/**
 * Finds, for addresses, the most specific verified identity of an account that covers each one
 * (address, then domain, then parent domains), with one store lookup for all of them.
 */
export async function resolveIdentities(store: IdentityStore, accountId: string, addresses: readonly string[]): Promise<Map<string, Identity>> {
  const candidatesByAddress = new Map(addresses.map((address) => [address, identityCandidates(address)]));
  const names = [...new Set([...candidatesByAddress.values()].flat())];
  const verified = new Map((await store.findByNames(accountId, names)).filter(canSend).map((identity) => [identity.name, identity]));
  const resolved = new Map<string, Identity>();
  for (const [address, candidates] of candidatesByAddress) {
    const match = candidates.map((name) => verified.get(name)).find((identity) => identity !== undefined);
    if (match) resolved.set(address, match);
  }
  return resolved;
}
