import type { MailEvent } from '../events/mail-event.js';
import type { MessageMetadata } from './queued-message.js';

/**
 * Where a delivery (one recipient of a message) stands. `queued` waits for next_attempt_at (a deferred delivery is
 * a queued one with attempts > 0); `leased` is in the hands of a running delivery engine; `held` waits for an
 * operator; the last three are final.
 */
export type DeliveryState = 'queued' | 'leased' | 'held' | 'delivered' | 'bounced' | 'deleted';

/** A delivery leased to this process. */
export interface ClaimedDelivery {
  id: number;
  messageId: string;
  recipient: string;
  domain: string;
  attempts: number;
  /** Source address of the previous attempt ('' for the system's default), reused for greylisting. */
  sourceIp: string | null;
}

/** A message as the delivery engine needs it. */
export interface MessageForDelivery {
  id: string;
  accountId: string;
  mailFrom: string;
  header: Buffer;
  /** The body when stored inline (small messages); else it is in bodyFile. */
  body: Buffer | null;
  bodyFile: string;
  size: number;
  receivedAt: number;
  metadata: MessageMetadata;
  /** DKIM-Signature field(s) computed at the first attempt; null before it, empty when nothing signs. */
  dkimSignature: Buffer | null;
}

/** A lease taken in the commit that inserts the deliveries (fresh mail handed straight to the delivery engine). */
export interface DeliveryLease {
  owner: string;
  until: number;
}

export interface ClaimedBatch {
  deliveries: ClaimedDelivery[];
  messages: Map<string, MessageForDelivery>;
}

/** Where an attempt got and what it was told: the fields SES delivery and bounce notifications carry. */
export interface AttemptOutcome {
  /** The remote reply, or the gateway's own diagnostic in SMTP reply form. */
  response: string;
  /** Address of the MX host that answered, null when none was reached. */
  remoteMta: string | null;
  mxHost: string | null;
  /** Source address ('' for the system's default), null when no connection was tried. */
  sourceIp: string | null;
  /** The address the session actually left from (SES's ses:outgoing-ip auto-tag), null when no session was opened. */
  outgoingIp: string | null;
  /** The EHLO name the gateway used (SES's reportingMTA). */
  reportingMta: string | null;
  /** For a deferred delivery, what it bounces as if its retries run out. */
  bounceType: string | null;
  bounceSubType: string | null;
  /** The bounce rule's category. */
  category: string | null;
}

/**
 * The tags an SES event about one recipient's delivery carries (`mail.tags`): the message's tags and auto-tags, and
 * ses:outgoing-ip once an attempt has had a session.
 */
export function deliveryTags(messageTags: Record<string, string[]>, outgoingIp: string | null): Record<string, string[]> {
  return outgoingIp ? { ...messageTags, 'ses:outgoing-ip': [outgoingIp] } : { ...messageTags };
}

/** The outcome of one attempt for one recipient; `queued` means deferred to nextAttemptAt. */
export interface DeliveryResult extends AttemptOutcome {
  deliveryId: number;
  messageId: string;
  state: 'delivered' | 'bounced' | 'queued';
  at: number;
  nextAttemptAt: number | null;
}

/** A leased delivery handed back without an attempt (shutdown, a full destination queue, a warm-up cap). */
export interface DeliveryRelease {
  deliveryId: number;
  nextAttemptAt: number;
}

/** Everything the engine writes at once: one transaction for many results. */
export interface ResultBatch {
  results: DeliveryResult[];
  releases: DeliveryRelease[];
  signatures: Array<{ messageId: string; signature: Buffer }>;
  /** Recipients sent from each source address on a UTC day (YYYY-MM-DD), for warm-up caps. */
  volumes: Array<{ address: string; day: string; recipients: number }>;
  /** Events the results cause (Delivery, Bounce, DeliveryDelay), appended in the same commit. */
  events: MailEvent[];
}

/** A message whose recipients are all final: its body file can go. */
export interface CompletedMessage {
  id: string;
  bodyFile: string;
}
