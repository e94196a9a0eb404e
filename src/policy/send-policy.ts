import type { SmtpReply } from '../common/smtp-reply.js';
import { StoreUnavailableError } from '../common/store-unavailable.js';
import { PolicyReplies } from './policy-replies.js';
import { SendContext } from './send-context.js';
import type { SendRequest } from './send-request.js';

/** One named check; it returns the reply that stops the message, or nothing to let it pass. */
export interface PolicyStep {
  readonly name: string;
  check(context: SendContext): Promise<SmtpReply | undefined>;
}

export type PolicyDecision =
  | { accepted: false; step: string; reply: SmtpReply }
  | { accepted: true; configurationSet: string | null; tags: Record<string, string[]>; sourceArn: string | undefined; droppedTags: string[]; identityAccountId: string };

/**
 * The send checks as an ordered list of small steps: the first that fails answers with its reply
 * and nothing after it runs (so nothing is queued or counted). A step that cannot consult the shared
 * store or limiter (the cluster's Redis is unreachable) answers with a temporary failure.
 */
export class SendPolicy {
  constructor(readonly steps: readonly PolicyStep[]) {}

  async evaluate(request: SendRequest): Promise<PolicyDecision> {
    const context = new SendContext(request);
    for (const step of this.steps) {
      const reply = await step.check(context).catch((error: unknown) => {
        if (error instanceof StoreUnavailableError) return PolicyReplies.storeUnavailable();
        throw error;
      });
      if (reply) return { accepted: false, step: step.name, reply };
    }
    return { accepted: true, configurationSet: context.configurationSet?.name ?? null, tags: context.tags, sourceArn: context.sourceArn, droppedTags: context.droppedTags, identityAccountId: context.identityAccountId };
  }
}
