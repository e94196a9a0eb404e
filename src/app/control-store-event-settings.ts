import { ExpiringMemo } from '../delivery/expiring-memo.js';
import type { EventSettings } from '../events/dispatch/event-dispatcher.js';
import type { MailEvent } from '../events/mail-event.js';
import { parseIdentityArn, type IdentityArnParts } from '../policy/iam/index.js';
import { resolveIdentities } from '../identity/identity-resolver.js';
import type { ControlStore } from '../store/control-store.js';
import type { Identity } from '../store/identities.js';

/** How long a looked-up identity is reused: a burst of events asks for the same few; a changed topic applies within it. */
const IDENTITY_LIFETIME_MS = 5_000;

const sourceArnOf = (event: MailEvent): IdentityArnParts | null => {
  try {
    return event.mail.sourceArn ? parseIdentityArn(event.mail.sourceArn) : null;
  } catch {
    return null;
  }
};

/**
 * The address in a `source` that may carry a display name (`Name <a@b>`): the last angle-bracketed part. Its content
 * holds no `<`, so a display name with a stray `<` is not taken into the address, and each `<` is scanned once.
 */
const addressOf = (source: string): string => /<([^<>]*)>\s*$/.exec(source)?.[1] ?? source.trim();

/**
 * The event dispatcher's view of the control store. The identity whose notification topics apply to a message is the
 * one in its `sourceArn` (the identity it was sent as: the owner's under sending authorization), else the sending
 * account's most specific verified identity of the envelope sender; under sending authorization, the delegate's own
 * entry for the same identity name (if it created one to hold its topics) is notified too.
 */
export function controlStoreEventSettings(store: ControlStore): EventSettings {
  const byName = new ExpiringMemo<Identity | undefined>(() => IDENTITY_LIFETIME_MS);
  const byAddress = new ExpiringMemo<Identity | undefined>(() => IDENTITY_LIFETIME_MS);
  const identity = (accountId: string, name: string) => byName.get(`${accountId}\0${name}`, async () => (await store.identities.get(accountId, name)) ?? undefined);
  return {
    async configurationSets() {
      return (await store.configurationSets.list()).filter((set) => set.eventDestinations.length > 0);
    },
    async identitiesWithTopics() {
      return (await store.identities.list()).filter((candidate) => Object.keys(candidate.notifications).length > 0);
    },
    async notifyingIdentities(event) {
      const arn = sourceArnOf(event);
      if (arn) {
        const owner = await identity(arn.accountId, arn.identity);
        const delegate = arn.accountId === event.accountId ? undefined : await identity(event.accountId, arn.identity);
        return [owner, delegate].filter((found): found is Identity => found !== undefined);
      }
      const address = addressOf(event.mail.source);
      const sender = await byAddress.get(`${event.accountId}\0${address}`, async () => (await resolveIdentities(store.identities, event.accountId, [address])).get(address));
      return sender ? [sender] : [];
    },
  };
}
