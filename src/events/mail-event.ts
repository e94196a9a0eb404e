/**
 * What happened to a message, in SES's own shapes (the guide's event-publishing and notification examples). Every
 * producer (acceptance, policy refusal, delivery results, feedback intake, the mailbox simulator, suppression)
 * appends MailEvents to the event log in the same commit as the change that caused them; every consumer (event
 * destinations, identity notifications, feedback forwarding, the suppression list, statistics, reputation) reads
 * the log from its own cursor. So nothing is lost across a crash, and each consumer sees each event at least once.
 */
export type MailEventType = 'Send' | 'Reject' | 'Delivery' | 'Bounce' | 'Complaint' | 'DeliveryDelay';

export interface SesHeader {
  name: string;
  value: string;
}

/** The `mail` object of events and notifications. Timestamps are ISO 8601 with milliseconds and `Z`. */
export interface SesMail {
  timestamp: string;
  messageId: string;
  source: string;
  sourceArn?: string;
  sourceIp?: string;
  callerIdentity?: string;
  sendingAccountId: string;
  destination: string[];
  /** Only where the destination or notification includes the original headers. */
  headersTruncated?: boolean;
  headers?: SesHeader[];
  commonHeaders?: Record<string, string | string[]>;
  tags: Record<string, string[]>;
}

export interface SesBouncedRecipient {
  emailAddress: string;
  action?: string;
  status?: string;
  diagnosticCode?: string;
}

export interface SesBounce {
  bounceType: 'Undetermined' | 'Permanent' | 'Transient';
  bounceSubType: string;
  bouncedRecipients: SesBouncedRecipient[];
  timestamp: string;
  feedbackId: string;
  remoteMtaIp?: string;
  reportingMTA?: string;
}

export interface SesComplaint {
  complainedRecipients: Array<{ emailAddress: string }>;
  timestamp: string;
  feedbackId: string;
  complaintSubType: string | null;
  userAgent?: string;
  complaintFeedbackType?: string;
  arrivalDate?: string;
}

export interface SesDelivery {
  timestamp: string;
  processingTimeMillis: number;
  recipients: string[];
  smtpResponse: string;
  reportingMTA: string;
  remoteMtaIp?: string;
}

export interface SesDeliveryDelay {
  timestamp: string;
  delayType: string;
  expirationTime: string;
  reportingMTA?: string;
  delayedRecipients: Array<{ emailAddress: string; status: string; diagnosticCode: string }>;
}

/** The type-specific object of each event type (Send's is always `{}`). */
export interface MailEventDetails {
  Send: Record<string, never>;
  Reject: { reason: string };
  Delivery: SesDelivery;
  Bounce: SesBounce;
  Complaint: SesComplaint;
  DeliveryDelay: SesDeliveryDelay;
}

/** One event as a producer appends it. */
export type MailEvent = {
  [T in MailEventType]: {
    /** Unique (a UUID): destinations and consumers de-duplicate on it; for Bounce and Complaint it is the feedbackId. */
    id: string;
    type: T;
    messageId: string;
    /** The sending account (a delegate's, under sending authorization). */
    accountId: string;
    /** The configuration set that applies to the message, whose event destinations get it. */
    configurationSet: string | null;
    /** Milliseconds since the epoch. */
    at: number;
    /** The `mail` object with the original headers (consumers drop them where headers are not wanted). */
    mail: SesMail;
    detail: MailEventDetails[T];
  };
}[MailEventType];

/** An event as the log returns it: in commit order, `seq` increasing. */
export type StoredMailEvent = MailEvent & { seq: number };
