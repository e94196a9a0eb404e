import type { SmtpReply } from '../common/smtp-reply.js';
import type { SendRequest } from './send-request.js';

/** One named check; it returns the reply that stops the message, or nothing to let it pass. */
export interface PolicyStep {
  readonly name: string;
  check(request: SendRequest): Promise<SmtpReply | undefined>;
}

export interface PolicyDecision {
  /** The step that refused the message, when one did. */
  step?: string;
  reply?: SmtpReply;
}

/**
 * The send checks as an ordered list of small steps: the first that fails answers with its reply
 * and nothing after it runs (so nothing is queued or counted).
 */
export class SendPolicy {
  constructor(readonly steps: readonly PolicyStep[]) {}

  async evaluate(request: SendRequest): Promise<PolicyDecision> {
    for (const step of this.steps) {
      const reply = await step.check(request);
      if (reply) return { step: step.name, reply };
    }
    return {};
  }
}
