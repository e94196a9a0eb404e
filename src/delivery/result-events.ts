import { mailEvent, sesTimestamp, type MessageForEvents } from '../events/event-builders.js';
import type { MailEvent, SesBouncedRecipient, SesDeliveryDelay } from '../events/mail-event.js';
import { feedbackIdFor } from '../message/message-id.js';
import type { DeliveryResult } from '../queue/delivery-records.js';
import type { BounceType, Classification, ReplyStage } from './bounce/index.js';

/** One recipient's recorded result with what decided it. */
export interface ResultWithReply {
  recipient: string;
  result: DeliveryResult;
  classification: Classification;
  stage: ReplyStage;
}

export interface AttemptEventFacts {
  /** When the message's retries end (acceptance plus the queue lifetime), DeliveryDelay's expirationTime. */
  expiresAt: number;
  /** The remote server's address when one answered (remoteMtaIp: SES gives it "if it was able to contact the remote MTA"). */
  remoteMtaIp: string | null;
  /** The local address the attempt left from, when a connection was made (Delivery's ses:outgoing-ip tag). */
  outgoingIp: string | null;
}

/** SES's delay types (the guide's examples write TransientCommunicationFailure where its table says ...General). */
export type DelayType = 'InternalFailure' | 'General' | 'MailboxFull' | 'SpamDetected' | 'RecipientServerError' | 'IPFailure' | 'TransientCommunicationFailure' | 'Undetermined';

const DELAY_TYPE_BY_CATEGORY: Record<string, DelayType> = {
  'mailbox-full': 'MailboxFull',
  'spam-content': 'SpamDetected',
  content: 'SpamDetected',
  virus: 'SpamDetected',
  attachment: 'SpamDetected',
  blocklist: 'IPFailure',
  'rate-limit': 'IPFailure',
  network: 'TransientCommunicationFailure',
  dns: 'TransientCommunicationFailure',
  tls: 'TransientCommunicationFailure',
  'try-later': 'RecipientServerError',
  unknown: 'Undetermined',
};

/**
 * The delay type of a deferral, from the bounce rule's category. A system error (x.3.x) is the recipient server's
 * when one answered, else the gateway's own (InternalFailure); what no category names is General.
 */
export function delayTypeOf(category: string, remoteReached: boolean): DelayType {
  if (category === 'system') return remoteReached ? 'RecipientServerError' : 'InternalFailure';
  return DELAY_TYPE_BY_CATEGORY[category] ?? 'General';
}

/**
 * The DSN status (RFC 3463) of a reply: its enhanced code, else one derived from its class (`5.0.0`, `4.0.0`); a
 * failure without any reply code is a network one: no answer from the host (4.4.1) or a broken connection (4.4.2).
 */
export function dsnStatus(classification: Classification, stage: ReplyStage): string {
  if (classification.enhancedCode) return classification.enhancedCode;
  if (classification.code !== null) return `${String(classification.code)[0]}.0.0`;
  return stage === 'connect' ? '4.4.1' : '4.4.2';
}

/**
 * A DSN Diagnostic-Code of type smtp, on one line: each run of white space that holds a line break becomes one space.
 * Whole runs are matched, never a pattern that starts with optional white space: that backtracks quadratically on a
 * remote server's long run of spaces, and this runs in the primary, which every session waits on.
 */
export const diagnosticCode = (reply: string): string => `smtp; ${reply.replace(/\s+/g, (run) => (run.includes('\n') ? ' ' : run))}`;

/**
 * The events of one attempt's results for a message (SES's shapes, guide §6.9): one Delivery per reply that
 * recipients were delivered with, one Bounce per bounce type and subtype (the feedbackId is the event id, in SES's
 * id form), one DeliveryDelay per delay type. A recipient whose retries ran out bounces like the others, with the
 * last reply.
 */
export function resultEvents(message: MessageForEvents, results: readonly ResultWithReply[], facts: AttemptEventFacts): MailEvent[] {
  const events: MailEvent[] = [];
  const reached = facts.remoteMtaIp !== null;
  const remoteMtaIp = facts.remoteMtaIp ? { remoteMtaIp: facts.remoteMtaIp } : {};
  for (const group of groupBy(results, (item) => `${item.result.state} ${groupKey(item, reached)}`)) {
    const first = group[0]!;
    const { result } = first;
    const timestamp = sesTimestamp(result.at);
    if (result.state === 'delivered') {
      const tags = facts.outgoingIp ? { ...message.tags, 'ses:outgoing-ip': [facts.outgoingIp] } : message.tags;
      events.push(
        mailEvent('Delivery', { ...message, tags }, result.at, {
          timestamp,
          processingTimeMillis: result.at - message.receivedAt,
          recipients: group.map((item) => item.recipient),
          smtpResponse: result.response,
          reportingMTA: result.reportingMta ?? '',
          ...remoteMtaIp,
        }),
      );
    } else if (result.state === 'bounced') {
      const feedbackId = feedbackIdFor(message.id, result.at);
      const bouncedRecipients = group.map(
        (item): SesBouncedRecipient => ({ emailAddress: item.recipient, action: 'failed', status: dsnStatus(item.classification, item.stage), diagnosticCode: diagnosticCode(item.result.response) }),
      );
      events.push(
        mailEvent(
          'Bounce',
          message,
          result.at,
          {
            bounceType: (result.bounceType ?? 'Undetermined') as BounceType,
            bounceSubType: result.bounceSubType ?? 'Undetermined',
            bouncedRecipients,
            timestamp,
            feedbackId,
            reportingMTA: `dns; ${result.reportingMta}`,
            ...remoteMtaIp,
          },
          feedbackId,
        ),
      );
    } else {
      const delay: SesDeliveryDelay = {
        timestamp,
        delayType: delayTypeOf(first.classification.category, reached),
        expirationTime: sesTimestamp(facts.expiresAt),
        delayedRecipients: group.map((item) => ({ emailAddress: item.recipient, status: dsnStatus(item.classification, item.stage), diagnosticCode: diagnosticCode(item.result.response) })),
        // The guide: "the IP address of the MTA that reported the delay"; absent when no server answered.
        ...(facts.remoteMtaIp ? { reportingMTA: facts.remoteMtaIp } : {}),
      };
      events.push(mailEvent('DeliveryDelay', message, result.at, delay));
    }
  }
  return events;
}

function groupKey({ result, classification }: ResultWithReply, reached: boolean): string {
  if (result.state === 'delivered') return result.response;
  if (result.state === 'bounced') return `${result.bounceType}/${result.bounceSubType}`;
  return delayTypeOf(classification.category, reached);
}

function groupBy<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const name = key(item);
    const group = groups.get(name);
    if (group) group.push(item);
    else groups.set(name, [item]);
  }
  return [...groups.values()];
}
