import { SmtpReply } from '../common/smtp-reply.js';
import type { ContentProblem } from '../message/message-reader.js';
import { MIME_TOO_LARGE, PolicyReplies } from '../policy/policy-replies.js';

const TIMEOUT_TEXT = 'Timeout waiting for data from client';
const CONTENT_PROBLEMS: Record<ContentProblem, string> = {
  nul: 'The message contains a NUL character.',
  'eight-bit-header': 'There are non-ASCII characters in a header field.',
  'long-header-line': 'A header line is longer than 998 characters and cannot be folded.',
  'unencodable-part': 'A MIME part has 8-bit data or lines longer than 998 characters and cannot be re-encoded.',
  'mime-too-large': MIME_TOO_LARGE,
};

/**
 * Every reply the submission endpoint chooses itself. Where SES documents a reply (the guide's SMTP
 * response code table) the text is SES's, byte for byte; the others follow SES's style and are
 * listed in the README.
 */
export const Replies = {
  authenticationSuccessful: 'Authentication successful',
  authenticationInvalid: PolicyReplies.credentialInvalid,
  authenticationRequired: 'Authentication required',
  starttlsRequired: () => new SmtpReply(530, 'Must issue a STARTTLS command first'),
  tooManyConnections: () => new SmtpReply(421, 'Too many concurrent SMTP connections'),
  tooManyConnectionsFromAddress: () => new SmtpReply(421, 'Too many concurrent SMTP connections from your address'),
  idleTimeout: TIMEOUT_TEXT,
  /** DATA over its deadline or below its minimum rate: SES's timeout reply. */
  dataTimeout: () => new SmtpReply(451, TIMEOUT_TEXT),
  tooManyCommandsBeforeAuth: () => new SmtpReply(421, 'Too many commands without authentication'),
  authTimeout: () => new SmtpReply(421, 'Timeout waiting for authentication'),
  sessionTooLong: () => new SmtpReply(421, 'Connection time limit reached, please reconnect'),
  /** smtp-server's own text for commands during shutdown, so every shutdown reply reads the same. */
  shuttingDown: () => new SmtpReply(421, 'Server shutting down'),
  noRecipients: () => new SmtpReply(554, 'Transaction failed: There are no recipients specified.'),
  temporaryServiceFailure: () => new SmtpReply(451, 'Temporary service failure'),
  /** The credential could not be checked (the store failed or is unreachable): SES's reply, which clients retry. */
  temporaryAuthenticationFailure: () => new SmtpReply(454, 'Temporary authentication failure'),
  messageTooLong: 'Message is too long.',
  tooManyRecipients: () => new SmtpReply(452, '4.5.3 Too many recipients'),
  authBlocked: () => new SmtpReply(421, 'Too many failed authentication attempts, try again later'),
  nonAsciiAddress: () => new SmtpReply(553, 'Transaction failed: There are non-ASCII characters in the email address.'),
  headerTooLarge: () => new SmtpReply(554, 'Transaction failed: The header section of the message is too large.'),
  contentRefused: (problem: ContentProblem) => new SmtpReply(554, `Transaction failed: ${CONTENT_PROBLEMS[problem]}`),
  accepted: (messageId: string) => `Ok ${messageId}`,
} as const;
