import addressparser from 'nodemailer/lib/addressparser';
import { eventIdFor } from '../message/message-id.js';
import type { MailEvent, MailEventDetails, MailEventType, SesHeader, SesMail } from './mail-event.js';

/** What every event needs to know about its message: the queue row's fields and the metadata kept at acceptance. */
export interface MessageForEvents {
  id: string;
  /** The sending account (the delegate's under sending authorization). */
  accountId: string;
  mailFrom: string;
  /** Milliseconds since the epoch. */
  receivedAt: number;
  /** Every envelope recipient of the message (SES's `mail.destination`). */
  recipients: readonly string[];
  configurationSet: string | null;
  tags: Record<string, string[]>;
  sourceIp?: string;
  /** ARN of the identity used to send (the owner's identity under sending authorization). */
  sourceArn?: string;
  /** The IAM user (SMTP credential's user name). */
  callerIdentity?: string;
  /** The header fields as the client submitted them, X-SES-* included, and whether they were cut at 10 KB. */
  originalHeaders?: SesHeader[];
  headersTruncated?: boolean;
}

/** SES's timestamp form: ISO 8601 with milliseconds and `Z`. */
export const sesTimestamp = (ms: number): string => new Date(ms).toISOString();

/** The names SES gives the common headers, and whether each is a list. */
const COMMON_HEADERS: ReadonlyArray<[string, string, boolean]> = [
  ['from', 'from', true],
  ['to', 'to', true],
  ['cc', 'cc', true],
  ['bcc', 'bcc', true],
  ['reply-to', 'replyTo', true],
  ['return-path', 'returnPath', false],
  ['message-id', 'messageId', false],
  ['subject', 'subject', false],
  ['date', 'date', false],
];

// RFC 5322 specials: a display name holding one of them keeps its quotes.
const SPECIALS = /[()<>[\]:;@\\,."]/;

const displayName = (name: string): string => (SPECIALS.test(name) ? `"${name.replace(/["\\]/g, '\\$&')}"` : name);

/**
 * An address field as SES's commonHeaders shows it: each mailbox as `Name <address>`, the name without the quotes
 * it does not need (`"John Doe" <john@example.com>` becomes `John Doe <john@example.com>`). Unparsable: as sent.
 */
function addressList(value: string): string {
  const mailboxes = addressparser(value, { flatten: true }).filter((entry) => entry.address);
  if (mailboxes.length === 0) return value;
  return mailboxes.map(({ name, address }) => (name ? `${displayName(name)} <${address}>` : address)).join(', ');
}

/** SES's `commonHeaders`: address fields as one-element arrays holding the whole field, as the guide's examples show. */
export function commonHeaders(headers: readonly SesHeader[]): Record<string, string | string[]> {
  const common: Record<string, string | string[]> = {};
  for (const [header, key, list] of COMMON_HEADERS) {
    const field = headers.find((candidate) => candidate.name.toLowerCase() === header);
    if (field) common[key] = list ? [addressList(field.value)] : field.value;
  }
  return common;
}

/**
 * commonHeaders of each message's header list, kept while the list is: a message handed from acceptance to delivery in
 * memory keeps one list for its Send and Delivery events, whose builders then parse its addresses once.
 */
const commonHeadersMemo = new WeakMap<readonly SesHeader[], Record<string, string | string[]>>();

function commonHeadersOf(headers: readonly SesHeader[]): Record<string, string | string[]> {
  let common = commonHeadersMemo.get(headers);
  if (!common) commonHeadersMemo.set(headers, (common = commonHeaders(headers)));
  return common;
}

/** The `mail` object, with the original headers when they were kept (consumers drop them where not wanted). */
export function mailObject(message: MessageForEvents): SesMail {
  const mail: SesMail = {
    timestamp: sesTimestamp(message.receivedAt),
    messageId: message.id,
    source: message.mailFrom,
    ...(message.sourceArn ? { sourceArn: message.sourceArn } : {}),
    ...(message.sourceIp ? { sourceIp: message.sourceIp } : {}),
    ...(message.callerIdentity ? { callerIdentity: message.callerIdentity } : {}),
    sendingAccountId: message.accountId,
    destination: [...message.recipients],
    tags: message.tags,
  };
  if (message.originalHeaders) {
    mail.headersTruncated = message.headersTruncated ?? false;
    mail.headers = message.originalHeaders;
    mail.commonHeaders = commonHeadersOf(message.originalHeaders);
  }
  return mail;
}

/** The mail object without the original headers, for a destination or notification that does not include them. */
export function withoutHeaders(mail: SesMail): SesMail {
  const { headersTruncated: _truncated, headers: _headers, commonHeaders: _common, ...rest } = mail;
  return rest;
}

/**
 * One event of `type` about `message`. Its id is a random UUID naming the message's node (message/message-id.ts).
 * Bounce and Complaint details carry their feedbackId, which is also the event's id (pass the same id to get the same
 * event again: the log keeps one of each).
 */
export function mailEvent<T extends MailEventType>(type: T, message: MessageForEvents, at: number, detail: MailEventDetails[T], id: string = eventIdFor(message.id)): MailEvent {
  return {
    id,
    type,
    messageId: message.id,
    accountId: message.accountId,
    configurationSet: message.configurationSet,
    at,
    mail: mailObject(message),
    detail,
  } as MailEvent;
}
