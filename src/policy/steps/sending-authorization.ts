import type { ControlStore } from '../../store/control-store.js';
import { canSend, identityCandidates } from '../../identity/identity-resolver.js';
import { sendConditionContext } from '../condition-context.js';
import { evaluatePolicies, InvalidArnError, parseIdentityArn, userArn } from '../iam/index.js';
import { policyDocuments } from '../policy-documents.js';
import { PolicyReplies } from '../policy-replies.js';
import type { SendContext } from '../send-context.js';
import type { PolicyStep } from '../send-policy.js';

interface ArnGrant {
  header: string;
  arn: string;
  addresses: string[];
}

/**
 * Which addresses each X-SES-*-ARN header vouches for: FROM-ARN the From and Sender, RETURN-PATH-ARN
 * the Return-Path, SOURCE-ARN the envelope sender and (as in SES when it is the only one given)
 * whatever the other two do not cover.
 */
function grants(context: SendContext): ArnGrant[] {
  const { sourceArn, fromArn, returnPathArn } = context.request.ses;
  const fromAddresses = [...context.from.map((mailbox) => mailbox.address), ...(context.sender ? [context.sender.address] : [])];
  const returnPath = context.returnPath ? [context.returnPath] : [];
  const result: ArnGrant[] = [];
  if (sourceArn) {
    const covered = [context.request.mailFrom, ...(fromArn ? [] : fromAddresses), ...(returnPathArn ? [] : returnPath)];
    result.push({ header: 'X-SES-SOURCE-ARN', arn: sourceArn, addresses: covered.filter(Boolean) });
  }
  if (fromArn) result.push({ header: 'X-SES-FROM-ARN', arn: fromArn, addresses: fromAddresses });
  if (returnPathArn) result.push({ header: 'X-SES-RETURN-PATH-ARN', arn: returnPathArn, addresses: returnPath });
  return result;
}

/**
 * Sending authorization: an identity of another account may be used when that identity's policies
 * allow this user ses:SendRawEmail on it. Quotas stay with the sending (delegate) account.
 */
export function sendingAuthorization(store: ControlStore, region: string): PolicyStep {
  return {
    name: 'sending-authorization',
    async check(context) {
      const principalArn = userArn(context.account.id, context.request.user.userName);
      for (const grant of grants(context)) {
        let parts;
        try {
          parts = parseIdentityArn(grant.arn);
        } catch (error) {
          if (error instanceof InvalidArnError) return PolicyReplies.invalidArn(grant.header, grant.arn);
          throw error;
        }
        if (parts.region !== region) return PolicyReplies.invalidArn(grant.header, grant.arn);
        // The sender's own identity needs no authorization; the identity checks cover it.
        if (parts.accountId === context.account.id) continue;
        const owner = await store.accounts.get(parts.accountId);
        const identity = owner ? await store.identities.get(owner.id, parts.identity) : null;
        if (!owner || !identity || !canSend(identity)) return PolicyReplies.accessDenied(principalArn, grant.arn);
        const policies = policyDocuments(await store.policies.list({ kind: 'identity', accountId: owner.id, identity: identity.name }));
        const decision = evaluatePolicies(policies, {
          action: 'ses:SendRawEmail',
          resource: grant.arn,
          principal: { accountId: context.account.id, arn: principalArn },
          context: sendConditionContext(context),
        });
        if (decision !== 'Allow') return PolicyReplies.accessDenied(principalArn, grant.arn);
        for (const address of grant.addresses) {
          if (identityCandidates(address).includes(identity.name)) context.delegated.set(address, { arn: grant.arn, ownerAccount: owner, identity });
        }
      }
      return undefined;
    },
  };
}
