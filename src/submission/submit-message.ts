import { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { AuthenticatedUser } from '../auth/smtp-authenticator.js';
import { SmtpReply } from '../common/smtp-reply.js';
import type { SmtpConfig } from '../config/schema.js';
import { originalHeaders } from '../events/producers/original-headers.js';
import type { HeaderFields } from '../message/header-section.js';
import { generateMessageId } from '../message/message-id.js';
import { MAX_HEADER_SECTION_BYTES, readMessage, type ContentProblem, type ReadMessage } from '../message/message-reader.js';
import { formatRfc5322Date } from '../message/rfc5322-date.js';
import { readSesControlHeaders, type SesControlHeaders } from '../message/ses-headers.js';
import { composeStoredHeader } from '../message/stored-header.js';
import type { SendPolicy } from '../policy/send-policy.js';
import { BodySink } from '../queue/body-sink.js';
import { acceptanceSignature, type DkimSignersFor } from './acceptance-signature.js';
import type { Acceptor } from '../queue/message-acceptor.js';
import type { Spool } from '../queue/spool.js';
import { openReceived, transportEncoded } from './received-message.js';

/** What every way into the gateway (SMTP, the HTTP API) needs to turn a received message into a queued one. */
export interface SubmissionServices {
  smtp: SmtpConfig;
  /** This node's id, part of the message ids it gives. */
  nodeId: string;
  policy: SendPolicy;
  spool: Spool;
  acceptor: Acceptor;
  log: Logger;
  /** Told every decision (the metrics count them). */
  observe?: SubmissionObserver;
  /** The DKIM keys that sign accepted messages (signed at acceptance); absent, the delivery engine signs. */
  dkimSigners?: DkimSignersFor;
}

export interface SubmissionOutcome {
  channel: 'smtp' | 'http';
  accepted: boolean;
  /** 250, or the refusal's reply code. */
  code: number;
  accountId: string;
  recipients: number;
}

export type SubmissionObserver = (outcome: SubmissionOutcome) => void;

export interface Envelope {
  mailFrom: string;
  recipients: string[];
}

export interface Submission {
  channel: SubmissionOutcome['channel'];
  user: AuthenticatedUser;
  /** The message as the client sent it; line endings are normalised while it is read. */
  input: Readable;
  /** The envelope; the HTTP API derives it from the header fields when the request names none (a reply refuses the message). */
  envelope: (headers: HeaderFields) => Envelope | SmtpReply;
  /** SES control values given outside the message (API parameters); they take precedence over the X-SES-* header fields. */
  control?: SesControlHeaders;
  sourceIp: string;
  secure: boolean;
  heloName?: string;
  /** Where the reply is logged from (the SMTP session id or the HTTP request id). */
  logContext: Record<string, unknown>;
}

export type SubmissionResult =
  | { accepted: true; messageId: string }
  /** `step` is the policy step that refused it, or "message" for a refusal before the policy (size, envelope). */
  | { accepted: false; step: string; reply: SmtpReply };


/** The replies for messages refused before the policy, in the caller's protocol's words. */
export interface MessageRefusals {
  tooLong: SmtpReply;
  headerTooLarge: SmtpReply;
  /** Content no hop can carry as it is (a NUL, 8-bit header fields, a part that cannot be re-encoded). */
  contentRefused: (problem: ContentProblem) => SmtpReply;
}

function sizeRefusal(message: ReadMessage, tooLong: SmtpReply, headerTooLarge: SmtpReply): SmtpReply | undefined {
  if (message.tooLarge) return tooLong;
  if (message.headerTooLarge) return headerTooLarge;
  return undefined;
}

/**
 * The one send path after parsing, shared by SMTP and the HTTP API: read the message (normalised, bounded, body
 * inline or spooled), run the send policy, compose the stored header and make the message durable. Errors other
 * than refusals (storage failures, a client gone mid-message) are thrown; the caller answers them in its protocol.
 */
export async function submitMessage(
  services: SubmissionServices,
  submission: Submission,
  refusals: MessageRefusals,
): Promise<SubmissionResult> {
  const result = await decideAndStore(services, submission, refusals);
  services.observe?.({
    channel: submission.channel,
    accepted: result.accepted,
    code: result.accepted ? 250 : result.reply.responseCode,
    accountId: submission.user.accountId,
    recipients: result.accepted ? result.recipients : 0,
  });
  return result.accepted ? { accepted: true, messageId: result.messageId } : result;
}

async function decideAndStore(
  services: SubmissionServices,
  submission: Submission,
  refusals: MessageRefusals,
): Promise<Extract<SubmissionResult, { accepted: false }> | { accepted: true; messageId: string; recipients: number }> {
  const { smtp, log, spool } = services;
  const { user } = submission;
  const receivedAt = new Date();
  const messageId = generateMessageId(services.nodeId, receivedAt.getTime());
  let body = new BodySink(spool, messageId, receivedAt);
  let stored = false;
  try {
    const limits = { maxBytes: smtp.maxMessageBytes, maxHeaderBytes: Math.min(MAX_HEADER_SECTION_BYTES, smtp.maxMessageBytes) };
    const received = await readMessage(submission.input, body, limits);
    const tooBig = sizeRefusal(received, refusals.tooLong, refusals.headerTooLarge);
    if (tooBig) return { accepted: false, step: 'message', reply: tooBig };
    let message = received;
    // 8-bit data and long lines are re-encoded now, before the one DKIM signature, so every hop gets the same bytes.
    if (!received.problem && received.needsTransportEncoding) ({ message, body } = await transportEncoded(spool, { message, body }, { messageId, receivedAt, limits }));
    if (message.problem) return { accepted: false, step: 'message', reply: refusals.contentRefused(message.problem) };
    const envelope = submission.envelope(message.headers);
    if (envelope instanceof SmtpReply) return { accepted: false, step: 'message', reply: envelope };
    const { mailFrom, recipients } = envelope;
    const ses = { ...readSesControlHeaders(message.headers), ...submission.control };
    const decision = await services.policy.evaluate({
      user,
      mailFrom,
      recipients,
      headers: message.headers,
      ses,
      sourceIp: submission.sourceIp,
      secure: submission.secure,
      size: message.size,
      now: receivedAt,
      openMessage: () => openReceived(spool, message, body),
    });
    if (!decision.accepted) {
      log.info({ ...submission.logContext, step: decision.step, reply: decision.reply.toString() }, 'message refused by policy');
      return decision;
    }
    const original = originalHeaders(message.headers);
    const header = Buffer.from(composeStoredHeader(message.headers, `<${messageId}@${smtp.messageIdDomain}>`, formatRfc5322Date(receivedAt)), 'latin1');
    const content = { header, body: body.inline, bodyFile: body.file?.name ?? '' };
    const dkimSignature = services.dkimSigners ? await acceptanceSignature(services.dkimSigners, { ...content, identityAccountId: decision.identityAccountId }, spool, log) : null;
    await services.acceptor.accept(
      {
        id: messageId,
        accountId: user.accountId,
        accessKeyId: user.accessKeyId,
        mailFrom,
        recipients,
        ...content,
        size: header.length + 2 + message.bodyBytes,
        receivedAt,
        metadata: {
          sourceIp: submission.sourceIp,
          tls: submission.secure,
          heloName: submission.heloName ?? '',
          ses,
          configurationSet: decision.configurationSet,
          tags: decision.tags,
          ...(decision.sourceArn ? { sourceArn: decision.sourceArn } : {}),
          callerIdentity: user.userName,
          originalHeaders: original.headers,
          headersTruncated: original.truncated,
          recipients,
          identityAccountId: decision.identityAccountId,
        },
        dkimSignature,
      },
      body.file,
    );
    stored = true;
    const droppedMessageTags = decision.droppedTags.length > 0 ? decision.droppedTags : undefined;
    log.info(
      { ...submission.logContext, messageId, account: user.accountId, recipients: recipients.length, size: message.size, bareLineEndings: received.bareLineEndings, reencoded: message !== received, droppedMessageTags },
      'message accepted',
    );
    return { accepted: true, messageId, recipients: recipients.length };
  } finally {
    const file = body.file;
    if (!stored && file) await spool.discard(file).catch((error: unknown) => log.warn({ err: error, file: file.name }, 'could not remove unaccepted body file'));
  }
}
