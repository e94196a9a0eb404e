import { SmtpReply } from '../common/smtp-reply.js';
import type { IntakeOutcome, RecipientRefusal } from '../feedback/intake/feedback-intake.js';

/**
 * Replies of the feedback intake (unauthenticated sessions on intake listeners). SES documents none; they follow its
 * `554 Message rejected: …` style and are listed in the README. Every refusal of an address at a feedback domain reads
 * the same, so a prober learns nothing about which return paths exist.
 */
export const IntakeReplies = {
  relayDenied: () => new SmtpReply(554, 'Message rejected: relay access denied'),
  noSuchFeedbackAddress: () => new SmtpReply(550, 'Message rejected: no such feedback address'),
  refusal: (refusal: RecipientRefusal) => (refusal === 'relay' ? IntakeReplies.relayDenied() : IntakeReplies.noSuchFeedbackAddress()),
  outcome: (outcome: IntakeOutcome): string => OUTCOME_TEXTS[outcome],
} as const;

const OUTCOME_TEXTS: Record<IntakeOutcome, string> = {
  bounce: 'Ok: bounce recorded',
  complaint: 'Ok: complaint recorded',
  'automatic-reply': 'Ok: automatic reply noted, not a bounce',
  'status-notice': 'Ok: delivery status noted',
  'dead-letter': 'Ok: kept for review',
  forwarded: 'Ok: passed to the node that sent the mail',
};
