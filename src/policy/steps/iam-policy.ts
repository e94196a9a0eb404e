import type { ControlStore } from '../../store/control-store.js';
import { sendConditionContext } from '../condition-context.js';
import { evaluatePolicies, identityArn, userArn } from '../iam/index.js';
import { policyDocuments } from '../policy-documents.js';
import { PolicyReplies } from '../policy-replies.js';
import type { PolicyStep } from '../send-policy.js';

/**
 * The credential's user must be allowed ses:SendRawEmail on the identities the message is sent as
 * (those of its From addresses and envelope sender): its identity ARN when verified or delegated,
 * else an ARN naming the address itself (so "Resource": "*" policies still decide).
 */
export function iamPolicyAllows(store: ControlStore, region: string): PolicyStep {
  return {
    name: 'iam-policy',
    async check(context) {
      const account = context.account;
      const user = context.request.user;
      const own = await context.ownSenderIdentities(store);
      const addresses = [...context.from.map((mailbox) => mailbox.address), context.request.mailFrom].filter(Boolean);
      const resources = new Set(
        addresses.map((address) => context.delegated.get(address)?.arn ?? identityArn(region, account.id, own.get(address)?.name ?? address)),
      );
      const policies = policyDocuments(await store.policies.list({ kind: 'user', accountId: account.id, userName: user.userName }));
      const conditions = sendConditionContext(context);
      const principalArn = userArn(account.id, user.userName);
      for (const resource of resources) {
        const decision = evaluatePolicies(policies, { action: 'ses:SendRawEmail', resource, principal: { accountId: account.id, arn: principalArn }, context: conditions });
        if (decision !== 'Allow') return PolicyReplies.accessDenied(principalArn, resource);
      }
      return undefined;
    },
  };
}
