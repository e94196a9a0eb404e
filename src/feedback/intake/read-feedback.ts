import type { parseAddressHeader } from 'mailparser';
import { HeaderFields, parseHeaderSection } from '../../message/header-section.js';
import { isAutomaticReply } from './automatic-reply.js';
import { parseAbuseReport, type AbuseReport } from './abuse-report.js';
import { parseDeliveryStatus, type DeliveryStatus } from './delivery-status.js';
import { parseFeedbackMessage, type FeedbackMessage, type ReportPart } from './feedback-message.js';
import { loadMailparser } from './load-mailparser.js';

/** What an ARF report says about the message it reports (its returned copy or header section). */
export interface ReportedMessage {
  messageId: string | undefined;
  /** To and Cc addresses. */
  recipients: string[];
}

/** What events take from the report message itself (plain data: it crosses from a parser thread). */
export interface ReportHeader {
  /** When the reporter sent it (its Date). */
  date: Date | undefined;
  messageId: string | undefined;
}

/** What a message sent to a return path turned out to be. */
export type Feedback =
  | { kind: 'delivery-status'; header: ReportHeader; report: DeliveryStatus }
  | { kind: 'abuse-report'; header: ReportHeader; report: AbuseReport; reported: ReportedMessage | undefined }
  | { kind: 'automatic-reply' }
  | { kind: 'unreadable'; reason: string };

const DELIVERY_STATUS_TYPES = ['message/delivery-status', 'message/global-delivery-status'];
const ORIGINAL_TYPES = ['message/rfc822', 'text/rfc822-headers', 'message/global', 'message/global-headers'];

const partOf = (parts: ReportPart[], types: readonly string[]) => parts.find((part) => types.includes(part.contentType));

/** The header section of a returned message (everything before its first blank line). */
function reportedMessage(part: ReportPart, parseAddresses: typeof parseAddressHeader): ReportedMessage {
  const text = part.content.toString('latin1').replace(/\r?\n/g, '\r\n');
  const end = text.indexOf('\r\n\r\n');
  const headers = new HeaderFields(parseHeaderSection(end === -1 ? text : text.slice(0, end + 2)));
  const addresses = parseAddresses([...headers.all('to'), ...headers.all('cc')].map((field) => field.raw.slice(field.raw.indexOf(':') + 1)), { flatten: true, decodePunycode: false });
  return {
    messageId: headers.first('message-id'),
    recipients: addresses.value.flatMap((entry) => (entry.address ? [entry.address] : [])),
  };
}

/**
 * Reads a message that came to a return path: an RFC 3464 DSN, an RFC 5965 feedback report, an RFC 3834 automatic
 * reply, or something intake cannot use (kept as a dead letter by the caller).
 */
export async function readFeedback(raw: Buffer): Promise<Feedback> {
  let message: FeedbackMessage;
  try {
    message = await parseFeedbackMessage(raw);
  } catch (error) {
    return { kind: 'unreadable', reason: `not a readable MIME message: ${(error as Error).message}` };
  }
  const header = { date: message.date, messageId: message.messageId };
  const feedbackPart = partOf(message.parts, ['message/feedback-report']);
  if (feedbackPart) {
    const original = partOf(message.parts, ORIGINAL_TYPES);
    // Loaded already: parseFeedbackMessage needed it.
    const { parseAddressHeader } = await loadMailparser();
    return { kind: 'abuse-report', header, report: parseAbuseReport(feedbackPart.content.toString('utf8')), reported: original && reportedMessage(original, parseAddressHeader) };
  }
  if (message.reportType === 'feedback-report') return { kind: 'unreadable', reason: 'feedback report without a message/feedback-report part' };
  const statusPart = partOf(message.parts, DELIVERY_STATUS_TYPES);
  if (statusPart) {
    const report = parseDeliveryStatus(statusPart.content.toString('utf8'));
    return report ? { kind: 'delivery-status', header, report } : { kind: 'unreadable', reason: 'delivery status notification without a recipient' };
  }
  if (message.reportType === 'delivery-status') return { kind: 'unreadable', reason: 'delivery status notification without a message/delivery-status part' };
  if (isAutomaticReply(message)) return { kind: 'automatic-reply' };
  return { kind: 'unreadable', reason: 'neither a delivery status notification, a feedback report nor an automatic reply' };
}
