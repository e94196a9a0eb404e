import type { ControlStore } from '../control-store.js';
import { DEFAULT_SUPPRESSED_REASONS } from '../suppression.js';
import type { RedisControlStore } from './redis-control-store.js';

/** Suppression entries read and written per step. */
const SUPPRESSION_PAGE = 10_000;

export interface CopiedCounts {
  accounts: number;
  credentials: number;
  identities: number;
  configurationSets: number;
  policies: number;
  suppressedDestinations: number;
  /** Accounts whose suppressed reasons differ from the default. */
  suppressionAttributes: number;
}

/**
 * Copies a control store (an embedded SQLite one) into Redis record by record, keeping creation and update times,
 * revocations and verification state. Accounts go first: every other record needs its account. Suppression entries of
 * accounts that do not exist are left behind, as nothing can send for them.
 */
export async function copyControlStore(source: ControlStore, target: RedisControlStore): Promise<CopiedCounts> {
  const counts: CopiedCounts = { accounts: 0, credentials: 0, identities: 0, configurationSets: 0, policies: 0, suppressedDestinations: 0, suppressionAttributes: 0 };
  const accounts = await source.accounts.list();
  for (const account of accounts) await target.accounts.restore(account);
  counts.accounts = accounts.length;
  for (const credential of await source.credentials.list()) {
    await target.credentials.restore(credential);
    counts.credentials++;
  }
  for (const identity of await source.identities.list()) {
    await target.identities.restore(identity);
    counts.identities++;
  }
  for (const set of await source.configurationSets.list()) {
    await target.configurationSets.restore(set);
    counts.configurationSets++;
  }
  for (const account of accounts) {
    for (const policyTarget of await source.policies.targets(account.id)) {
      for (const policy of await source.policies.list(policyTarget)) {
        await target.policies.restore(policy);
        counts.policies++;
      }
    }
    const reasons = await source.suppression.reasons(account.id);
    if (reasons.join() !== DEFAULT_SUPPRESSED_REASONS.join()) {
      await target.suppression.setReasons(account.id, reasons);
      counts.suppressionAttributes++;
    }
    let nextToken: string | undefined;
    do {
      const page = await source.suppression.list(account.id, { pageSize: SUPPRESSION_PAGE, nextToken });
      counts.suppressedDestinations += await target.suppression.put(page.entries);
      nextToken = page.nextToken;
    } while (nextToken);
  }
  return counts;
}
