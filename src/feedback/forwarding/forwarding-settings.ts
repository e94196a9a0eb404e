import type { ControlStore } from '../../store/control-store.js';

/** Whether email feedback forwarding is on for an identity (SES: on by default, SetIdentityFeedbackForwardingEnabled). */
export interface FeedbackForwardingSettings {
  forwardingEnabled(accountId: string, identity: string): Promise<boolean>;
}

/**
 * The identity's own setting, which only counts while the identity has notification topics for both bounces and
 * complaints: as in SES, turning forwarding off without another way to hear of them leaves it on. An identity that no
 * longer exists keeps SES's default (on).
 */
export function controlStoreForwardingSettings(store: ControlStore): FeedbackForwardingSettings {
  return {
    async forwardingEnabled(accountId, identity) {
      const found = await store.identities.get(accountId, identity);
      if (!found) return true;
      return found.feedbackForwarding || !(found.notifications.Bounce && found.notifications.Complaint);
    },
  };
}
