import type { Logger } from 'pino';
import { StoreUnavailableError } from '../common/store-unavailable.js';
import type { DeliverySettings } from '../delivery/delivery-settings.js';
import { ExpiringMemo } from '../delivery/expiring-memo.js';
import { identityDomain } from '../identity/identity-name.js';
import { resolveDomainIdentity } from '../identity/identity-resolver.js';
import type { ControlStore } from '../store/control-store.js';
import type { ConfigurationSet } from '../store/configuration-sets.js';
import type { Identity } from '../store/identities.js';
import { effectiveSuppressedReasons } from '../store/suppression.js';

/**
 * How long a looked-up identity or configuration set is reused: every message of a burst asks for the same
 * few, and an operator's change (a new DKIM key, a TLS policy) takes effect within this time.
 */
const SETTINGS_LIFETIME_MS = 10_000;

/** While the suppression list cannot be read, one warning per this interval says that mail goes out unchecked. */
const UNCHECKED_WARNING_INTERVAL_MS = 60_000;

/**
 * The delivery engine's view of identities and configuration sets, read from the control store (in a cluster, the
 * cache's view that keeps the last values read for as long as Redis is unreachable).
 */
export function controlStoreDeliverySettings(store: ControlStore, log: Pick<Logger, 'warn'>): DeliverySettings {
  let uncheckedWarnedAt = Number.NEGATIVE_INFINITY;
  const identities = new ExpiringMemo<Identity | undefined>(() => SETTINGS_LIFETIME_MS);
  const sets = new ExpiringMemo<ConfigurationSet | null>(() => SETTINGS_LIFETIME_MS);
  /**
   * The most specific verified domain identity of the account that covers `domain`. Address identities carry no DKIM
   * key, and one of them (postmaster@, say) must not hide its domain's settings, so only domains are looked at.
   */
  const domainIdentity = (accountId: string, domain: string) =>
    identities.get(`${accountId}\0${domain}`, () => resolveDomainIdentity(store.identities, accountId, domain));
  return {
    async dkimSigners(accountId, fromDomain) {
      const identity = await domainIdentity(accountId, fromDomain);
      if (!identity?.dkim?.enabled) return [];
      const domain = identityDomain(identity.name);
      return identity.dkim.keys.map((key) => ({ domain, selector: key.selector, privateKeyPem: key.privateKeyPem, algorithm: key.algorithm }));
    },
    async configurationSet(accountId, name) {
      const set = await sets.get(`${accountId}\0${name}`, () => store.configurationSets.get(accountId, name));
      return set ? { tlsPolicy: set.tlsPolicy, sendingPoolName: set.sendingPoolName ?? undefined } : null;
    },
    async customMailFrom(accountId, fromDomain) {
      const mailFrom = (await domainIdentity(accountId, fromDomain))?.mailFrom;
      // The engine checks the domain's MX when it sends and applies behaviorOnMxFailure.
      return mailFrom ? { domain: mailFrom.domain, behaviorOnMxFailure: mailFrom.behaviorOnMxFailure } : null;
    },
    async suppressedRecipients(accountId, configurationSet, recipients) {
      try {
        const set = configurationSet ? await sets.get(`${accountId}\0${configurationSet}`, () => store.configurationSets.get(accountId, configurationSet)) : null;
        const reasons = await effectiveSuppressedReasons(store.suppression, accountId, set);
        // The list itself is read every time (the cluster's cache keeps it at most seconds old): an address added a moment ago must not get mail.
        return reasons.length === 0 ? new Set() : await store.suppression.suppressed(accountId, recipients);
      } catch (error) {
        if (!(error instanceof StoreUnavailableError)) throw error;
        // Accepted mail must not wait for the cluster's Redis; recipients whose entries were never read go unchecked.
        const now = Date.now();
        if (now - uncheckedWarnedAt >= UNCHECKED_WARNING_INTERVAL_MS) {
          uncheckedWarnedAt = now;
          log.warn({ account: accountId, recipients: recipients.length, reason: error.message }, 'suppression list unreachable: delivering without checking it');
        }
        return new Set();
      }
    },
  };
}
