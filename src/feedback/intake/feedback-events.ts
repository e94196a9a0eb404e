import { createHash } from 'node:crypto';
import { classifySmtpReply, type BounceRule } from '../../delivery/bounce/index.js';
import { parseSmtpReply } from '../../delivery/bounce/smtp-reply.js';
import { mailEvent, sesTimestamp, type MessageForEvents } from '../../events/event-builders.js';
import { eventIdFor, nodeGroupOf } from '../../message/message-id.js';
import type { MailEvent, SesBounce, SesBouncedRecipient, SesComplaint } from '../../events/mail-event.js';
import type { LateBounce, ReturnPathDelivery } from '../../queue/feedback-records.js';
import type { AbuseReport } from './abuse-report.js';
import type { DeliveryStatus, RecipientStatus } from './delivery-status.js';
import type { ReportHeader, ReportedMessage } from './read-feedback.js';

/** A message a return path leads to: the delivery it names and the message as events describe it. */
export interface FeedbackTarget {
  delivery: ReturnPathDelivery;
  message: MessageForEvents;
}

export interface BounceOutcome {
  events: MailEvent[];
  bounces: LateBounce[];
  /** Failed recipients of the DSN that are no recipient of the transaction. */
  unmatched: string[];
  /** Recipients the DSN reports as delayed, delivered, relayed or expanded: news, not bounces. */
  notices: number;
}

/**
 * The event id (SES's feedbackId) of a report, a UUID naming the message's node: derived from the report's Message-ID,
 * so a report the sender sends again (our 250 lost on the way) gives the same id and the log keeps it once; random
 * when the report has none.
 */
function feedbackId(kind: string, message: MessageForEvents, report: ReportHeader, part: string): string {
  if (!report.messageId) return eventIdFor(message.id);
  const hex = createHash('sha256').update(`${kind}\0${message.id}\0${report.messageId}\0${part}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((parseInt(hex[16]!, 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${nodeGroupOf(message.id)}`;
}

/** When the reporter sent the report (SES's timestamp): its Date, unless absent or in the future. */
const sentAt = (report: ReportHeader, now: number) => Math.min(report.date?.getTime() ?? now, now);

function findRecipient(recipients: readonly string[], address: string | undefined): string | undefined {
  const lower = address?.toLowerCase();
  return lower === undefined ? undefined : recipients.find((recipient) => recipient.toLowerCase() === lower);
}

/** The reply that decides the bounce type: the diagnostic code when it has a code, else the status with its text. */
function replyToClassify(status: RecipientStatus): string {
  const diagnostic = status.diagnosticCode ?? '';
  const parsed = parseSmtpReply(diagnostic);
  if (parsed.code !== null || parsed.enhancedCode !== null) return diagnostic;
  return [status.status, parsed.text].filter(Boolean).join(' ');
}

/**
 * Bounce events for the failed recipients of a DSN that came to `target`'s return path, one per bounce type and
 * subtype. A DSN recipient is matched by Final-Recipient, then Original-Recipient, among the message's recipients at
 * the transaction's domain (so a return path can only speak for its own transaction); when neither matches and that
 * domain has one recipient, it is that one (mail forwarded elsewhere). bouncedRecipients name the recipient as the
 * sender addressed it.
 */
export function bounceEvents(target: FeedbackTarget, report: ReportHeader, status: DeliveryStatus, now: number, rules?: readonly BounceRule[]): BounceOutcome {
  const candidates = target.delivery.domainRecipients;
  const failed = status.recipients.filter((recipient) => recipient.action === 'failed');
  const groups = new Map<string, { type: SesBounce['bounceType']; subType: string; entries: Array<{ address: string; status: RecipientStatus }> }>();
  const bounces: LateBounce[] = [];
  const unmatched: string[] = [];
  for (const recipient of failed) {
    const address =
      findRecipient(candidates, recipient.finalRecipient) ??
      findRecipient(candidates, recipient.originalRecipient) ??
      (candidates.length === 1 && failed.length === 1 ? candidates[0] : undefined);
    if (address === undefined) {
      unmatched.push(recipient.finalRecipient ?? recipient.originalRecipient ?? '');
      continue;
    }
    const classification = classifySmtpReply(replyToClassify(recipient), {}, rules);
    const type = classification.bounceType ?? 'Undetermined';
    const subType = classification.bounceSubType ?? 'Undetermined';
    const key = `${type}/${subType}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { type, subType, entries: [] }));
    group.entries.push({ address, status: recipient });
    bounces.push({ messageId: target.message.id, recipient: address, bounceType: type, bounceSubType: subType, category: classification.category });
  }
  const events = [...groups.entries()].map(([key, group]) => {
    const id = feedbackId('Bounce', target.message, report, key);
    const remoteMtaIp = group.entries.find((entry) => entry.status.remoteMtaIp)?.status.remoteMtaIp;
    const detail: SesBounce = {
      bounceType: group.type,
      bounceSubType: group.subType,
      bouncedRecipients: group.entries.map(({ address, status: entry }): SesBouncedRecipient => ({
        emailAddress: address,
        action: entry.action,
        ...(entry.status ? { status: entry.status } : {}),
        ...(entry.diagnosticCode ? { diagnosticCode: entry.diagnosticCode } : {}),
      })),
      timestamp: sesTimestamp(sentAt(report, now)),
      feedbackId: id,
      ...(remoteMtaIp ? { remoteMtaIp } : {}),
      ...(status.reportingMta ? { reportingMTA: status.reportingMta } : {}),
    };
    return mailEvent('Bounce', target.message, now, detail, id);
  });
  return { events, bounces, unmatched, notices: status.recipients.length - failed.length };
}

/** Those of `wanted` that are among `candidates`, spelled as the message has them. */
function among(candidates: readonly string[], wanted: readonly string[]): string[] {
  const lower = new Set(wanted.map((address) => address.toLowerCase()));
  return candidates.filter((candidate) => lower.has(candidate.toLowerCase()));
}

/**
 * A Complaint event for an ARF report about `message`. complainedRecipients: the report's Original-Rcpt-To, else the
 * reported copy's To/Cc, else every candidate (SES looks the recipients up in the original message the same way, as
 * ISPs redact the complainer's address), always limited to the candidates.
 */
export function complaintEvent(message: MessageForEvents, candidates: readonly string[], report: ReportHeader, abuse: AbuseReport, reported: ReportedMessage | undefined, now: number): MailEvent {
  const byReport = among(candidates, abuse.originalRecipients);
  const byCopy = among(candidates, reported?.recipients ?? []);
  const complained = byReport.length > 0 ? byReport : byCopy.length > 0 ? byCopy : [...candidates];
  const id = feedbackId('Complaint', message, report, '');
  const detail: SesComplaint = {
    complainedRecipients: complained.map((emailAddress) => ({ emailAddress })),
    timestamp: sesTimestamp(sentAt(report, now)),
    feedbackId: id,
    complaintSubType: null,
    ...(abuse.userAgent ? { userAgent: abuse.userAgent } : {}),
    ...(abuse.feedbackType ? { complaintFeedbackType: abuse.feedbackType } : {}),
    ...(abuse.arrivalDate ? { arrivalDate: abuse.arrivalDate } : {}),
  };
  return mailEvent('Complaint', message, now, detail, id);
}
