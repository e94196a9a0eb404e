import { Readable } from 'node:stream';
import addressparser from 'nodemailer/lib/addressparser';
import type { AuthenticatedUser } from '../../auth/smtp-authenticator.js';
import { Replies } from '../../smtp/replies.js';
import { SmtpReply } from '../../common/smtp-reply.js';
import { headerMailboxes } from '../../message/addresses.js';
import { fieldValue, type HeaderFields } from '../../message/header-section.js';
import type { SesControlHeaders } from '../../message/ses-headers.js';
import { asciiAddress, recipientKey } from '../../smtp/ascii-address.js';
import { submitMessage, type Envelope, type SubmissionServices } from '../../submission/submit-message.js';
import { refusalError, type ApiDialect } from './api-error.js';

/** A send through the API: the whole MIME message (raw, or composed from Simple content) and the request's parameters. */
export interface ApiSendRequest {
  message: Buffer;
  /** Envelope sender (v1 Source, v2 FromEmailAddress); otherwise the Return-Path or From header's address. */
  source?: string;
  /** Envelope recipients (v1 Destinations, v2 Destination); otherwise the To, Cc and Bcc headers' addresses. */
  destinations?: string[];
  control: SesControlHeaders;
}

export interface ApiCaller {
  user: AuthenticatedUser;
  sourceIp: string;
  secure: boolean;
  requestId: string;
}

const firstAddress = (value: string): string | undefined => addressparser(value, { flatten: true }).find((entry) => entry.address)?.address;

function apiEnvelope(request: ApiSendRequest, maxRecipients: number, headers: HeaderFields): Envelope | SmtpReply {
  const sender =
    (request.source !== undefined ? firstAddress(request.source) : undefined) ??
    headerMailboxes(headers, 'Return-Path')[0]?.address ??
    headerMailboxes(headers, 'From')[0]?.address;
  if (!sender) return new SmtpReply(554, "Message rejected: Missing required header 'From'.");
  // Given destinations may be written "Name <address>"; the header fields' addresses are parsed already.
  const listed = request.destinations
    ? request.destinations.map((entry) => firstAddress(entry) ?? entry)
    : ['To', 'Cc', 'Bcc'].flatMap((name) => headers.all(name).flatMap((field) => addressparser(fieldValue(field), { flatten: true })).map((entry) => entry.address));
  const recipients = new Map<string, string>();
  for (const address of listed) {
    if (!address) continue;
    const ascii = asciiAddress(address);
    recipients.set(recipientKey(ascii), ascii);
  }
  if (recipients.size === 0) return new SmtpReply(554, 'Message rejected: Missing final destination: the request names no recipients.');
  if (recipients.size > maxRecipients) return new SmtpReply(554, `Message rejected: Recipient count exceeds ${maxRecipients}.`);
  return { mailFrom: asciiAddress(sender), recipients: [...recipients.values()] };
}

/** Sends through the one send path (src/submission) and answers its refusals as SES's API errors. */
export async function apiSend(services: SubmissionServices, caller: ApiCaller, request: ApiSendRequest, dialect: ApiDialect): Promise<string> {
  const result = await submitMessage(
    services,
    {
      channel: 'http',
      user: caller.user,
      input: Readable.from([request.message]),
      envelope: (headers) => apiEnvelope(request, services.smtp.maxRecipients, headers),
      control: request.control,
      sourceIp: caller.sourceIp,
      secure: caller.secure,
      logContext: { request: caller.requestId },
    },
    {
      tooLong: new SmtpReply(552, `Message rejected: Message length is more than ${services.smtp.maxMessageBytes} bytes.`),
      headerTooLarge: new SmtpReply(554, 'Message rejected: The header section of the message is too large.'),
      contentRefused: Replies.contentRefused,
    },
  );
  if (!result.accepted) throw refusalError(result.reply, dialect);
  return result.messageId;
}
