/** What the delivery layer does with a recipient after a reply. */
export type DeliveryAction = 'deliver' | 'retry' | 'bounce';

/** The SMTP command (or phase) that produced the reply; rules may match on it. */
export type ReplyStage = 'connect' | 'ehlo' | 'mail' | 'rcpt' | 'data' | 'tls';

export const REPLY_STAGES: readonly ReplyStage[] = ['connect', 'ehlo', 'mail', 'rcpt', 'data', 'tls'];

export type BounceType = 'Permanent' | 'Transient' | 'Undetermined';

/** SES bounce subtypes, grouped by the bounce type they belong to. */
export const BOUNCE_SUBTYPES = {
  Permanent: ['General', 'NoEmail', 'Suppressed', 'OnAccountSuppressionList'],
  Transient: ['General', 'MailboxFull', 'MessageTooLarge', 'ContentRejected', 'AttachmentRejected'],
  Undetermined: ['Undetermined'],
} as const;

export type BounceSubType = (typeof BOUNCE_SUBTYPES)[BounceType][number];

/** Subtypes only the suppression layer may assign: no remote reply ever means them. */
export const SUPPRESSION_SUBTYPES: readonly BounceSubType[] = ['Suppressed', 'OnAccountSuppressionList'];

/**
 * The verdict on one SMTP reply. For `retry`, bounceType/bounceSubType say what to report if the retries
 * run out (SES publishes a Transient bounce then); for `deliver` they are null.
 */
export interface Classification {
  action: DeliveryAction;
  bounceType: BounceType | null;
  bounceSubType: BounceSubType | null;
  category: string;
  /** Id of the matching rule, or default-2xx / default-4xx / default-5xx / default-unknown. */
  rule: string;
  code: number | null;
  enhancedCode: string | null;
}
