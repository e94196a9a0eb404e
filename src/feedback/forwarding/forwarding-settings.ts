import type { ControlStore } from '../../store/control-store.js';

/** Whether email feedback forwarding is on for an identity (SES: on by default, SetIdentityFeedbackForwardingEnabled). */
export interface FeedbackForwardingSettings {
  forwardingEnabled(accountId: string, identity: string): Promise<boolean>;
}

/** The identity's own setting; an identity that no longer exists keeps SES's default (on). */
export function controlStoreForwardingSettings(store: ControlStore): FeedbackForwardingSettings {
  return {
    async forwardingEnabled(accountId, identity) {
      return (await store.identities.get(accountId, identity))?.feedbackForwarding ?? true;
    },
  };
}
