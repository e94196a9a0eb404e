import type { ClaimedDelivery, DeliveryResult } from '../queue/delivery-records.js';
import { classifySmtpReply, type BounceRule, type Classification, type ReplyStage } from './bounce/index.js';
import { nextRetry, type RetryPolicy } from './retry-schedule.js';

/** Where an attempt went: filled in as far as it got (no MX reached: nulls). */
export interface AttemptContext {
  at: number;
  receivedAt: number;
  remoteMta: string | null;
  mxHost: string | null;
  sourceIp: string | null;
  outgoingIp: string | null;
  reportingMta: string;
  policy: RetryPolicy;
  rules: readonly BounceRule[];
  random?: () => number;
}

/**
 * The recorded result of one recipient's reply: delivered on 2xx; bounced when the rules say bounce or the queue
 * lifetime is over; otherwise queued again for the retry schedule's next attempt.
 */
export function deliveryResult(delivery: ClaimedDelivery, reply: string, stage: ReplyStage, context: AttemptContext): { result: DeliveryResult; classification: Classification } {
  return classifiedResult(delivery, reply, classifySmtpReply(reply, { stage }, context.rules), context);
}

/** The recorded result of a reply whose classification is already known (the mailbox simulator, the suppression list). */
export function classifiedResult(delivery: ClaimedDelivery, reply: string, classification: Classification, context: AttemptContext): { result: DeliveryResult; classification: Classification } {
  const base = {
    deliveryId: delivery.id,
    messageId: delivery.messageId,
    at: context.at,
    response: reply,
    remoteMta: context.remoteMta,
    mxHost: context.mxHost,
    sourceIp: context.sourceIp,
    outgoingIp: context.outgoingIp,
    reportingMta: context.reportingMta,
    category: classification.category,
  };
  if (classification.action === 'deliver') {
    return { classification, result: { ...base, state: 'delivered', nextAttemptAt: null, bounceType: null, bounceSubType: null } };
  }
  const bounce = { bounceType: classification.bounceType, bounceSubType: classification.bounceSubType };
  if (classification.action === 'retry') {
    const retry = nextRetry(delivery.attempts + 1, reply, context.at, context.receivedAt, context.policy, context.random);
    if (retry.retry) return { classification, result: { ...base, ...bounce, state: 'queued', nextAttemptAt: retry.nextAttemptAt } };
  }
  return { classification, result: { ...base, ...bounce, state: 'bounced', nextAttemptAt: null } };
}
