import type { DeliverySettings } from '../delivery/delivery-settings.js';
import { identityDomain } from '../identity/identity-name.js';
import { resolveIdentities } from '../policy/identity-resolver.js';
import type { ControlStore } from '../store/control-store.js';
import type { Identity } from '../store/identities.js';

/** The most specific verified domain identity of the account that covers `domain`. */
async function domainIdentity(store: ControlStore, accountId: string, domain: string): Promise<Identity | undefined> {
  const probe = `postmaster@${domain}`;
  return (await resolveIdentities(store.identities, accountId, [probe])).get(probe);
}

/** The delivery engine's view of identities and configuration sets, read from the control store. */
export function controlStoreDeliverySettings(store: ControlStore): DeliverySettings {
  return {
    async dkimSigners(accountId, fromDomain) {
      const identity = await domainIdentity(store, accountId, fromDomain);
      if (!identity?.dkim?.enabled) return [];
      const domain = identityDomain(identity.name);
      return identity.dkim.keys.map((key) => ({ domain, selector: key.selector, privateKeyPem: key.privateKeyPem, algorithm: key.algorithm }));
    },
    async configurationSet(accountId, name) {
      const set = await store.configurationSets.get(accountId, name);
      return set ? { tlsPolicy: set.tlsPolicy, sendingPoolName: set.sendingPoolName ?? undefined } : null;
    },
    async customMailFrom(accountId, fromDomain) {
      const mailFrom = (await domainIdentity(store, accountId, fromDomain))?.mailFrom;
      // The engine checks the domain's MX when it sends and applies behaviorOnMxFailure.
      return mailFrom ? { domain: mailFrom.domain, behaviorOnMxFailure: mailFrom.behaviorOnMxFailure } : null;
    },
  };
}
