import type { ControlStore } from '../../store/control-store.js';
import { SmtpReply } from '../../common/smtp-reply.js';
import type { PolicyStep } from '../send-policy.js';

/** The credential may have been revoked, or its account removed, since the session authenticated. */
export function credentialStillValid(store: ControlStore): PolicyStep {
  return {
    name: 'credential-still-valid',
    async check(request) {
      const credential = await store.credentials.get(request.user.accessKeyId);
      if (!credential || credential.revokedAt) return new SmtpReply(535, 'Authentication Credentials Invalid');
      const account = await store.accounts.get(credential.accountId);
      if (!account) return new SmtpReply(535, 'Account not subscribed to SES');
      return undefined;
    },
  };
}
