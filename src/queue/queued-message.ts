import type { SesControlHeaders } from '../message/ses-headers.js';
import type { AttemptOutcome, DeliveryState } from './delivery-records.js';

/** What the gateway knows about an accepted message besides its bytes. */
export interface MessageMetadata {
  /** The submitting client's address and whether the session used TLS. */
  sourceIp: string;
  tls: boolean;
  heloName: string;
  ses: SesControlHeaders;
  /** The configuration set that applies (named by the header or the identity's default), if any. */
  configurationSet: string | null;
  /** Message tags and SES's automatic tags (ses:configuration-set, ses:source-ip, …), for events. */
  tags: Record<string, string[]>;
  /** For events' `mail` object (events/event-builders.ts): the identity ARN used to send, the IAM user, and the header
   * fields as submitted (X-SES-* included) up to 10 KB, with whether they were cut. Absent in rows written before them. */
  sourceArn?: string;
  callerIdentity?: string;
  originalHeaders?: Array<{ name: string; value: string }>;
  headersTruncated?: boolean;
  /** Every envelope recipient (SES's `mail.destination`), so delivery results can build events without reading the deliveries. */
  recipients?: string[];
  /** Set on messages the gateway composes itself (not sent by the account): they cause no events and no feedback forwarding. */
  systemMessage?: 'identity-verification' | 'feedback-report';
  /**
   * The account owning the From identity whose DKIM key and custom MAIL FROM apply: the sending account, or the
   * identity's owner when a sending-authorization policy lets the sender use it. Absent in messages queued before it was kept.
   */
  identityAccountId?: string;
}

export interface QueuedMessage {
  id: string;
  accountId: string;
  accessKeyId: string;
  mailFrom: string;
  recipients: string[];
  /** The stored header section (CRLF-terminated fields, no blank line). */
  header: Buffer;
  /** The body when it is stored in the queue row (small messages), else null. */
  body: Buffer | null;
  /** The body's spool file when it is not inline, else ''. */
  bodyFile: string;
  /** Bytes of header, separator and body as they will be sent. */
  size: number;
  receivedAt: Date;
  metadata: MessageMetadata;
  /** DKIM-Signature fields made at acceptance (empty: nothing signs); null leaves the signing to the delivery engine. */
  dkimSignature?: Buffer | null;
}

/** A delivery's state as an operator reads it: a queued delivery that has been tried is `deferred`. */
export type DisplayState = DeliveryState | 'deferred';

export interface QueuedMessageSummary {
  id: string;
  accountId: string;
  mailFrom: string;
  recipients: string[];
  size: number;
  receivedAt: Date;
  /** Number of recipients in each state. */
  states: Partial<Record<DisplayState, number>>;
}

export interface QueueFilter {
  accountId?: string;
  /** Only messages with a recipient at this domain. */
  domain?: string;
  /** Leave out messages whose recipients are all final. */
  pendingOnly?: boolean;
  limit?: number;
}

/** Which deliveries an operator action applies to; every given field must match. */
export interface QueueSelection {
  messageId?: string;
  domain?: string;
  accountId?: string;
}

/** One recipient's state and the last attempt's outcome (null before any attempt). */
export interface DeliveryDetails extends NullableFields<AttemptOutcome> {
  recipient: string;
  state: DisplayState;
  attempts: number;
  nextAttemptAt: Date | null;
  firstAttemptAt: Date | null;
  lastAttemptAt: Date | null;
  finishedAt: Date | null;
  /** From acceptance to the final result, in milliseconds. */
  processingTimeMillis: number | null;
}

type NullableFields<T> = { [K in keyof T]: T[K] | null };

export interface MessageDetails extends Omit<QueuedMessageSummary, 'recipients' | 'states'> {
  completedAt: Date | null;
  /** The message's tags and auto-tags as accepted. */
  tags: Record<string, string[]>;
  deliveries: DeliveryDetails[];
}

/** What the gateway composes and sends itself (verification mail, feedback reports): its fields besides the bytes. */
export interface SystemMessageFields {
  id: string;
  accountId: string;
  mailFrom: string;
  recipient: string;
  header: Buffer;
  body: Buffer;
  receivedAt: Date;
  /** The gateway's host name, as the HELO name of its own submission. */
  hostname: string;
  kind: NonNullable<MessageMetadata['systemMessage']>;
}

/** A message the gateway composes itself, ready to queue: it causes no events and no feedback forwarding. */
export function systemMessage(fields: SystemMessageFields): QueuedMessage {
  return {
    id: fields.id,
    accountId: fields.accountId,
    accessKeyId: '',
    mailFrom: fields.mailFrom,
    recipients: [fields.recipient],
    header: fields.header,
    body: fields.body,
    bodyFile: '',
    size: fields.header.length + 2 + fields.body.length,
    receivedAt: fields.receivedAt,
    metadata: { sourceIp: '127.0.0.1', tls: true, heloName: fields.hostname, ses: {}, configurationSet: null, tags: {}, systemMessage: fields.kind },
  };
}
