import { boundedText } from '../common/bounded-text.js';
import type { ReplyStage } from './bounce/index.js';
import type { SendInfo, SmtpError } from './smtp-client.js';

/** The reply that decides one recipient's fate, and the command that drew it. */
export interface RecipientReply {
  recipient: string;
  reply: string;
  stage: ReplyStage;
}

const STAGE_BY_COMMAND: Record<string, ReplyStage> = {
  'MAIL FROM': 'mail',
  'RCPT TO': 'rcpt',
  DATA: 'data',
  STARTTLS: 'tls',
  EHLO: 'ehlo',
  HELO: 'ehlo',
  CONN: 'connect',
};

/**
 * An error as a reply: the server's own when it gave one, otherwise the error's text and code (a network failure).
 * Replies are bounded before they are stored with each recipient's result, copied into their events and logged, on
 * every attempt: nodemailer reads replies of up to 1 MB, and a hostile or broken server's would otherwise be kept
 * whole for every recipient of the transaction (100 of them: 100 MB in the queue and in one event).
 */
export function errorReply(error: SmtpError): string {
  if (typeof error.response === 'string' && error.response !== '') return boundedText(error.response);
  return boundedText(`${error.message.replace(/\s+/g, ' ')} (${error.originalCode ?? error.code ?? 'ERROR'})`);
}

export function errorStage(error: SmtpError, fallback: ReplyStage): ReplyStage {
  if (error.code === 'ETLS') return 'tls';
  return STAGE_BY_COMMAND[error.command ?? ''] ?? fallback;
}

/**
 * What each recipient of a transaction got: nodemailer reports refused recipients alongside a successful DATA, and
 * an error for the whole transaction otherwise (a refused MAIL FROM, every RCPT refused, a failed DATA, a lost
 * connection). A recipient refused at RCPT keeps its own reply in every case.
 */
export function recipientReplies(recipients: readonly string[], outcome: { info: SendInfo } | { error: SmtpError }): RecipientReply[] {
  const rejected = new Map<string, SmtpError>();
  const rejectedErrors = 'info' in outcome ? outcome.info.rejectedErrors : outcome.error.rejectedErrors;
  for (const error of (rejectedErrors ?? []) as SmtpError[]) {
    if (error.recipient) rejected.set(error.recipient, error);
  }
  const reply = transactionReply(outcome);
  const stage = 'info' in outcome ? 'data' : errorStage(outcome.error, 'data');
  return recipients.map((recipient) => {
    const own = rejected.get(recipient);
    return own ? { recipient, reply: errorReply(own), stage: 'rcpt' } : { recipient, reply, stage };
  });
}

/** The reply that ended the transaction: the DATA reply, or the error's. */
export function transactionReply(outcome: { info: SendInfo } | { error: SmtpError }): string {
  return 'info' in outcome ? boundedText(outcome.info.response) : errorReply(outcome.error);
}
