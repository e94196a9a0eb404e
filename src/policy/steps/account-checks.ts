import type { ControlStore } from '../../store/control-store.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/** The credential may have been revoked, or its account removed, since the session authenticated. */
export function credentialStillValid(store: ControlStore): PolicyStep {
  return {
    name: 'credential-still-valid',
    async check(context) {
      const credential = await store.credentials.get(context.request.user.accessKeyId);
      if (!credential || credential.revokedAt) return PolicyReplies.credentialInvalid();
      const account = await store.accounts.get(credential.accountId);
      if (!account) return PolicyReplies.accountNotSubscribed();
      context.account = account;
      return undefined;
    },
  };
}

/** A paused account is refused whatever else it sends (`relaygate account sending ID disable`). */
export const accountSendingEnabled: PolicyStep = {
  name: 'account-sending-enabled',
  async check(context) {
    return context.account.sendingEnabled ? undefined : PolicyReplies.accountPaused();
  },
};
