import type { SendLimiter } from '../ratelimit/index.js';
import type { ControlStore } from '../store/control-store.js';
import { SendPolicy } from './send-policy.js';
import { accountSendingEnabled, credentialStillValid } from './steps/account-checks.js';
import { configurationSetUsable } from './steps/configuration-set.js';
import { noBlockedAttachments, noDuplicateHeaders } from './steps/content-checks.js';
import { iamPolicyAllows } from './steps/iam-policy.js';
import { messageTags } from './steps/message-tags.js';
import { sendLimits } from './steps/send-limits.js';
import { sendingAuthorization } from './steps/sending-authorization.js';
import { customMailFromUsable, sandboxRecipientsVerified, sendersVerified } from './steps/verified-identities.js';

/**
 * The send checks in SES's order: who sends, with which settings, as whom, to whom, what, how much.
 * `clock` is the time the send limits are charged at.
 */
export function buildSendPolicy(store: ControlStore, limiter: SendLimiter, region: string, clock: () => number = Date.now): SendPolicy {
  return new SendPolicy([
    credentialStillValid(store),
    accountSendingEnabled,
    configurationSetUsable(store),
    messageTags,
    sendingAuthorization(store, region),
    iamPolicyAllows(store, region),
    sendersVerified(store, region),
    customMailFromUsable(store),
    sandboxRecipientsVerified(store, region),
    noDuplicateHeaders,
    noBlockedAttachments,
    sendLimits(limiter, clock),
  ]);
}
