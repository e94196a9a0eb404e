import type { SmtpReply } from '../../common/smtp-reply.js';

/** An error answered in SES's terms: its code (the SDKs' exception name), HTTP status and message. */
export class ApiError extends Error {
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** SES v2 (REST/JSON) and v1 (Query) name the same refusals differently. */
export type ApiDialect = 'v2' | 'v1';

const codes = {
  messageRejected: { v2: 'MessageRejected', v1: 'MessageRejected', status: 400 },
  mailFromNotVerified: { v2: 'MailFromDomainNotVerifiedException', v1: 'MailFromDomainNotVerifiedException', status: 400 },
  accountPaused: { v2: 'SendingPausedException', v1: 'AccountSendingPausedException', status: 400 },
  configurationSetPaused: { v2: 'SendingPausedException', v1: 'ConfigurationSetSendingPausedException', status: 400 },
  configurationSetMissing: { v2: 'NotFoundException', v1: 'ConfigurationSetDoesNotExist', status: 404 },
  rate: { v2: 'TooManyRequestsException', v1: 'Throttling', status: 429 },
  quota: { v2: 'LimitExceededException', v1: 'Throttling', status: 400 },
  accessDenied: { v2: 'AccessDeniedException', v1: 'AccessDenied', status: 403 },
  credential: { v2: 'UnrecognizedClientException', v1: 'InvalidClientTokenId', status: 403 },
  // AWS's common error for "a temporary failure of the server", the same name in both APIs.
  unavailable: { v2: 'ServiceUnavailable', v1: 'ServiceUnavailable', status: 503 },
} as const;

const UNAVAILABLE_TEXT = 'The request has failed due to a temporary failure of the server.';

/** A request that could not be served now (the cluster's Redis is unreachable): SDKs retry it. */
export const serviceUnavailable = (): ApiError => new ApiError(codes.unavailable.v2, codes.unavailable.status, UNAVAILABLE_TEXT);

/**
 * The API error for a refusal of the send path (src/policy/policy-replies.ts, the size checks), chosen by the
 * reply's text. The message is the reply text without SES's SMTP-only prefixes, as SES's API words it.
 */
export function refusalError(reply: SmtpReply, dialect: ApiDialect): ApiError {
  const text = reply.message;
  const pick = (kind: keyof typeof codes, message = text): ApiError => {
    const entry = codes[kind];
    // SES v1 answers throttling with 400 (the Query protocol has no 429 in SES's documentation).
    const status = dialect === 'v1' && kind === 'rate' ? 400 : entry.status;
    return new ApiError(entry[dialect], status, message);
  };
  const withoutPrefix = text.replace(/^(Message rejected|Transaction failed|Throttling failure): /, '');
  if (reply.responseCode === 535) return pick('credential');
  if (text.startsWith('Throttling failure: Maximum sending rate')) return pick('rate', 'Maximum sending rate exceeded.');
  if (text.startsWith('Throttling failure: Daily message quota')) return pick('quota', 'Daily message quota exceeded.');
  if (text === 'Message rejected: Account is paused') return pick('accountPaused', 'Sending is paused for this account.');
  if (text.startsWith('Message rejected: Sending is paused for configuration set')) return pick('configurationSetPaused', withoutPrefix);
  if (text.startsWith('Configuration set does not exist')) return pick('configurationSetMissing', text.replace(/^Configuration set does not exist: /, ''));
  if (text.startsWith('Access denied')) return pick('accessDenied', text.replace(/^Access denied: /, ''));
  if (text.startsWith('Message rejected: Mail FROM domain is not verified')) return pick('mailFromNotVerified', withoutPrefix);
  if (reply.responseCode >= 500) return pick('messageRejected', withoutPrefix);
  return serviceUnavailable();
}

export const badRequest = (message: string, dialect: ApiDialect = 'v2') =>
  dialect === 'v2' ? new ApiError('BadRequestException', 400, message) : new ApiError('InvalidParameterValue', 400, message);
export const notFound = (message: string) => new ApiError('NotFoundException', 404, message);
export const alreadyExists = (message: string) => new ApiError('AlreadyExistsException', 400, message);
