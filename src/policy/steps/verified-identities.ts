import type { ControlStore } from '../../store/control-store.js';
import { isSimulatorAddress } from '../../message/addresses.js';
import { identityArn } from '../iam/index.js';
import { resolveIdentities } from '../../identity/identity-resolver.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/**
 * The envelope sender, From, Sender and Return-Path must each be a verified identity (own or delegated). The message
 * is then sent as the From address's identity (the envelope sender's without a From): its ARN, the owner's under
 * sending authorization, is the events' sourceArn.
 */
export function sendersVerified(store: ControlStore, region: string): PolicyStep {
  return {
    name: 'senders-verified',
    async check(context) {
      const own = await context.ownSenderIdentities(store);
      const failed = context.senderAddresses.filter((address) => !own.has(address) && !context.delegated.has(address));
      if (failed.length > 0) return PolicyReplies.notVerified(region, failed);
      const sentAs = context.from[0]?.address ?? context.request.mailFrom;
      const ownIdentity = own.get(sentAs);
      context.sourceArn = context.delegated.get(sentAs)?.arn ?? (ownIdentity ? identityArn(region, context.account.id, ownIdentity.name) : undefined);
      return undefined;
    },
  };
}

/**
 * An identity whose custom MAIL FROM domain is set to "RejectMessage" may not send while that domain
 * is not verified (SES's MailFromDomainNotVerified).
 */
export function customMailFromUsable(store: ControlStore): PolicyStep {
  return {
    name: 'custom-mail-from',
    async check(context) {
      const from = context.from[0]?.address;
      if (!from) return undefined;
      const identity = context.delegated.get(from)?.identity ?? (await context.ownSenderIdentities(store)).get(from);
      const mailFrom = identity?.mailFrom;
      if (mailFrom && mailFrom.behaviorOnMxFailure === 'RejectMessage' && mailFrom.status !== 'Success') return PolicyReplies.mailFromDomainNotVerified(mailFrom.domain);
      return undefined;
    },
  };
}

/**
 * In the sandbox, every recipient must be a verified identity of the account or a mailbox-simulator
 * address. A delegated identity's owner in the sandbox keeps the message in the sandbox too (SES:
 * both accounts must be out of it).
 */
export function sandboxRecipientsVerified(store: ControlStore, region: string): PolicyStep {
  return {
    name: 'sandbox-recipients',
    async check(context) {
      const sandboxed = context.account.sandbox || [...context.delegated.values()].some((delegated) => delegated.ownerAccount.sandbox);
      if (!sandboxed) return undefined;
      const recipients = context.request.recipients.filter((recipient) => !isSimulatorAddress(recipient));
      const verified = await resolveIdentities(store.identities, context.account.id, recipients);
      const failed = recipients.filter((recipient) => !verified.has(recipient));
      return failed.length > 0 ? PolicyReplies.notVerified(region, failed) : undefined;
    },
  };
}
