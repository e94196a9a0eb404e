import { createHash } from 'node:crypto';
import type { MailEvent, SesBounce, SesComplaint, SesHeader, SesMail } from '../../events/mail-event.js';
import { messageIdTimePrefix, nodeGroupOf } from '../../message/message-id.js';
import { formatRfc5322Date } from '../../message/rfc5322-date.js';

/** A report as the queue stores it: header section (CRLF-terminated fields) and body. */
export interface FeedbackReport {
  /** Derived from the event's id, so the same event always gives the same message (queued once). */
  id: string;
  recipient: string;
  header: string;
  body: string;
}

export interface ReportOptions {
  /** The gateway's host name (Reporting-MTA). */
  hostname: string;
  /** Domain of the reports' From: MAILER-DAEMON@<feedback domain>. */
  fromDomain: string;
  messageIdDomain: string;
  now: Date;
}

type ReportedEvent = Extract<MailEvent, { type: 'Bounce' | 'Complaint' }>;

/** RFC 5322 2.1.1: a line is at most 998 characters. */
const MAX_LINE = 998;

/**
 * The id of the report about an event, in SES's message id form: the event's time, then a UUID-shaped hash of the
 * event id whose last group names the node of the event's message (which queues the report). The same event gives the
 * same id, which is what makes forwarding idempotent.
 */
export function reportMessageId(event: MailEvent): string {
  return derivedMessageId(event, `feedback-report ${event.id}`);
}

function derivedMessageId(event: MailEvent, key: string): string {
  const hash = createHash('sha256').update(key).digest('hex');
  const uuid = `${hash.slice(0, 8)}-${hash.slice(8, 12)}-${hash.slice(12, 16)}-${hash.slice(16, 20)}-${nodeGroupOf(event.messageId)}`;
  return `${messageIdTimePrefix(event.at)}-${uuid}-000000`;
}

/**
 * The mailbox simulator's out-of-office answer (ooto@, RFC 3834) to a message delivered to it: from that address to
 * the message's Return-Path, or its envelope sender without one, as the guide describes.
 */
export function simulatorAutoReply(event: Extract<MailEvent, { type: 'Delivery' }>, simulatorAddress: string, options: ReportOptions): FeedbackReport {
  const id = derivedMessageId(event, `auto-reply ${event.id} ${simulatorAddress}`);
  const returnPath = event.mail.headers?.find((header) => header.name.toLowerCase() === 'return-path')?.value.replace(/^\s*<|>\s*$/g, '');
  const originalId = event.mail.headers?.find((header) => header.name.toLowerCase() === 'message-id')?.value;
  const header = [
    `From: ${simulatorAddress}`,
    `To: ${returnPath || event.mail.source}`,
    'Subject: Out of the office',
    `Date: ${formatRfc5322Date(options.now)}`,
    `Message-ID: <${id}@${options.messageIdDomain}>`,
    ...(originalId ? [`In-Reply-To: ${originalId}`, `References: ${originalId}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 7bit',
    'Auto-Submitted: auto-replied',
    '',
  ].join('\r\n');
  const body = lines([`This is an automatic reply from the Amazon SES mailbox simulator (${simulatorAddress}): I am out of the office.`, `Your message ${event.mail.messageId} was delivered.`]);
  return { id, recipient: returnPath || event.mail.source, header, body };
}

/**
 * The email that tells the sender about a bounce (an RFC 3464 DSN in a multipart/report, RFC 6522) or a complaint
 * (an RFC 5965 feedback report), with the original message's header fields, sent to the envelope sender of that
 * message (SES's SMTP interface: "notifications go to the address specified in the MAIL FROM command").
 */
export function feedbackReport(event: ReportedEvent, options: ReportOptions): FeedbackReport {
  const id = reportMessageId(event);
  const boundary = `=_relaygate-${id}`;
  const [subject, reportType, text, report] =
    event.type === 'Bounce' ? ['Delivery Status Notification (Failure)', 'delivery-status', bounceText(event.detail), deliveryStatus(event.mail, event.detail, options)] : ['Complaint Notification', 'feedback-report', complaintText(event.detail), feedbackReportPart(event.mail, event.detail)];
  const parts = [
    part('text/plain; charset=utf-8', text),
    part(reportType === 'delivery-status' ? 'message/delivery-status' : 'message/feedback-report', report),
    ...(event.mail.headers ? [part('text/rfc822-headers', headerLines(event.mail.headers))] : []),
  ];
  const header = [
    `From: MAILER-DAEMON@${options.fromDomain}`,
    `To: ${event.mail.source}`,
    `Subject: ${subject}`,
    `Date: ${formatRfc5322Date(options.now)}`,
    `Message-ID: <${id}@${options.messageIdDomain}>`,
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=${reportType}; boundary="${boundary}"`,
    'Auto-Submitted: auto-replied',
    '',
  ].join('\r\n');
  const body = `This is a MIME-formatted message.\r\n\r\n${parts.map((content) => `--${boundary}\r\n${content}`).join('\r\n')}\r\n--${boundary}--\r\n`;
  return { id, recipient: event.mail.source, header, body };
}

function part(contentType: string, content: string): string {
  const encoding = /[^\x00-\x7f]/.test(content) ? '8bit' : '7bit';
  return `Content-Type: ${contentType}\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n${content}`;
}

const lines = (fields: Array<string | undefined>): string => `${fields.filter((field) => field !== undefined).map(fold).join('\r\n')}\r\n`;

function bounceText(bounce: SesBounce): string {
  const recipients = bounce.bouncedRecipients.map((recipient) => recipient.emailAddress);
  return lines(['An error occurred while trying to deliver the mail to the following recipients:', ...recipients]);
}

function complaintText(complaint: SesComplaint): string {
  const recipients = complaint.complainedRecipients.map((recipient) => recipient.emailAddress);
  return lines(['A recipient of your message reported it as unwanted (a complaint). The recipients the complaint may concern:', ...recipients]);
}

/** The message/delivery-status part (RFC 3464 2.2, 2.3): the message's fields, then each recipient's. */
function deliveryStatus(mail: SesMail, bounce: SesBounce, options: ReportOptions): string {
  const perMessage = lines([
    `Reporting-MTA: ${bounce.reportingMTA ?? `dns; ${options.hostname}`}`,
    `X-SES-Message-ID: ${mail.messageId}`,
    `Arrival-Date: ${formatRfc5322Date(new Date(mail.timestamp))}`,
  ]);
  const defaultStatus = bounce.bounceType === 'Transient' ? '4.0.0' : '5.0.0';
  const perRecipient = bounce.bouncedRecipients.map((recipient) =>
    lines([
      `Final-Recipient: rfc822; ${recipient.emailAddress}`,
      `Action: ${recipient.action ?? 'failed'}`,
      `Status: ${recipient.status ?? defaultStatus}`,
      bounce.remoteMtaIp ? `Remote-MTA: dns; [${bounce.remoteMtaIp}]` : undefined,
      recipient.diagnosticCode ? `Diagnostic-Code: ${recipient.diagnosticCode}` : undefined,
      `Last-Attempt-Date: ${formatRfc5322Date(new Date(bounce.timestamp))}`,
    ]),
  );
  return [perMessage, ...perRecipient].join('\r\n');
}

/** The message/feedback-report part (RFC 5965 3.1, 3.2). */
function feedbackReportPart(mail: SesMail, complaint: SesComplaint): string {
  return lines([
    `Feedback-Type: ${complaint.complaintFeedbackType ?? 'abuse'}`,
    `User-Agent: ${complaint.userAgent ?? 'relaygate'}`,
    'Version: 1',
    mail.source ? `Original-Mail-From: <${mail.source}>` : undefined,
    ...complaint.complainedRecipients.map((recipient) => `Original-Rcpt-To: <${recipient.emailAddress}>`),
    `Arrival-Date: ${formatRfc5322Date(new Date(complaint.arrivalDate ?? complaint.timestamp))}`,
    `X-SES-Message-ID: ${mail.messageId}`,
  ]);
}

const headerLines = (headers: readonly SesHeader[]): string => lines(headers.map(({ name, value }) => `${name}: ${value}`));

/**
 * Folds a line longer than RFC 5322 allows at its last space within reach (values were unfolded for the events); a
 * run without one is broken hard, the continuation starting with the space that folding needs. Walks the line once:
 * searching back from each break to the line's start was quadratic in a long run without spaces.
 */
function fold(line: string): string {
  const folded: string[] = [];
  let start = 0;
  let indent = '';
  while (indent.length + line.length - start > MAX_LINE) {
    const last = start + MAX_LINE - indent.length - 1;
    let at = last;
    while (at > start && line[at] !== ' ') at--;
    if (at === start) at = last;
    folded.push(indent + line.slice(start, at));
    start = at;
    indent = line[at] === ' ' ? '' : ' ';
  }
  folded.push(indent + line.slice(start));
  return folded.join('\r\n');
}
