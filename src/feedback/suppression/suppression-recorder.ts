import type { EventHandler } from '../../events/event-consumer.js';
import type { StoredMailEvent } from '../../events/mail-event.js';
import type { ControlStore } from '../../store/control-store.js';
import type { SuppressionReason } from '../../store/configuration-sets.js';
import { effectiveSuppressedReasons, type SuppressedDestination } from '../../store/suppression.js';
import { isSimulatorAddress } from '../../message/addresses.js';

type NewEntry = Omit<SuppressedDestination, 'lastUpdateTime'> & { lastUpdateTime: Date };

/**
 * Adds recipients to their account's suppression list from the event log: a hard (Permanent) bounce for reason
 * BOUNCE, a complaint for COMPLAINT, when the reason is among the configuration set's suppressed reasons (when the set
 * has its own) or else the account's. A bounce or complaint that was itself caused by the list is not counted again.
 */
export function suppressionRecorder(store: ControlStore): EventHandler {
  return {
    name: 'suppression-list',
    async handle(events: readonly StoredMailEvent[]) {
      const entries: NewEntry[] = [];
      const reasonsOf = new Map<string, Promise<SuppressionReason[]>>();
      const reasons = (event: StoredMailEvent) => {
        const key = `${event.accountId}\0${event.configurationSet ?? ''}`;
        let found = reasonsOf.get(key);
        if (!found) reasonsOf.set(key, (found = effectiveReasons(store, event.accountId, event.configurationSet)));
        return found;
      };
      for (const event of events) {
        const cause = suppressionCause(event);
        if (!cause || !(await reasons(event)).includes(cause.reason)) continue;
        // The mailbox simulator's addresses are never put on the list (the guide, for bounce@).
        for (const emailAddress of cause.recipients.filter((recipient) => !isSimulatorAddress(recipient))) {
          entries.push({ accountId: event.accountId, emailAddress, reason: cause.reason, lastUpdateTime: new Date(event.at), messageId: event.messageId, feedbackId: event.id });
        }
      }
      if (entries.length > 0) await store.suppression.put(entries);
    },
  };
}

function suppressionCause(event: StoredMailEvent): { reason: SuppressionReason; recipients: string[] } | null {
  if (event.type === 'Bounce') {
    const { bounceType, bounceSubType, bouncedRecipients } = event.detail;
    if (bounceType !== 'Permanent' || bounceSubType === 'OnAccountSuppressionList') return null;
    return { reason: 'BOUNCE', recipients: bouncedRecipients.map((recipient) => recipient.emailAddress) };
  }
  if (event.type === 'Complaint') {
    if (event.detail.complaintSubType === 'OnAccountSuppressionList') return null;
    return { reason: 'COMPLAINT', recipients: event.detail.complainedRecipients.map((recipient) => recipient.emailAddress) };
  }
  return null;
}

async function effectiveReasons(store: ControlStore, accountId: string, configurationSet: string | null): Promise<SuppressionReason[]> {
  return effectiveSuppressedReasons(store.suppression, accountId, configurationSet ? await store.configurationSets.get(accountId, configurationSet) : null);
}
