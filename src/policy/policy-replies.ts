import { SmtpReply } from '../common/smtp-reply.js';

/** Longest reply text: RFC 5321 allows 512 octets per reply line, code and CRLF included. */
const MAX_TEXT = 500;

/** A message whose MIME structure is past what the gateway reads: refused for good, as retrying cannot change it. */
export const MIME_TOO_LARGE = 'The message has more than 1,000 MIME parts, or a MIME part header that is too large.';

/**
 * The policy replies. SES's own texts are used where the guide gives them (unverified identities,
 * access denied, throttling, configuration set); the rest follow its "Message rejected:" and
 * "Transaction failed:" forms and are listed in the README.
 */
export const PolicyReplies = {
  accountPaused: () => new SmtpReply(554, 'Message rejected: Account is paused'),
  credentialInvalid: () => new SmtpReply(535, 'Authentication Credentials Invalid'),
  accountNotSubscribed: () => new SmtpReply(535, 'Account not subscribed to SES'),
  configurationSetMissing: (name: string) => new SmtpReply(554, `Configuration set does not exist: Configuration set ${name} does not exist.`),
  configurationSetPaused: (name: string) => new SmtpReply(554, `Message rejected: Sending is paused for configuration set ${name}`),
  tooManyMessageTags: (count: number, max: number) => new SmtpReply(554, `Message rejected: ${count} message tags, at most ${max} are allowed.`),
  invalidArn: (header: string, value: string) => new SmtpReply(554, `Message rejected: ${header} is not a valid identity ARN in this region: ${value}`),
  accessDenied: (userArn: string, resourceArn: string) =>
    new SmtpReply(554, `Access denied: User ${userArn} is not authorized to perform ses:SendRawEmail on resource ${resourceArn}`),
  notVerified: (region: string, identities: readonly string[]) => {
    const prefix = `Message rejected: Email address is not verified. The following identities failed the check in region ${region}: `;
    let text = prefix + identities.join(', ');
    if (text.length > MAX_TEXT) {
      // SES: "If Amazon SES isn't able to show all of the identities ..., the error message ends with three periods".
      let shown = '';
      for (const identity of identities) {
        const next = shown ? `${shown}, ${identity}` : identity;
        if ((prefix + next).length + 3 > MAX_TEXT) break;
        shown = next;
      }
      text = `${prefix}${shown}...`;
    }
    return new SmtpReply(554, text);
  },
  mailFromDomainNotVerified: (domain: string) => new SmtpReply(554, `Message rejected: Mail FROM domain is not verified: ${domain}`),
  duplicateHeader: (name: string) => new SmtpReply(554, `Transaction failed: Duplicate header '${name}'.`),
  blockedAttachment: (filename: string) => new SmtpReply(554, `Transaction failed: Attachment '${filename}' has an unsupported file type.`),
  mimeTooLarge: () => new SmtpReply(554, `Transaction failed: ${MIME_TOO_LARGE}`),
  maximumSendingRate: () => new SmtpReply(454, 'Throttling failure: Maximum sending rate exceeded'),
  dailyQuota: () => new SmtpReply(454, 'Throttling failure: Daily message quota exceeded'),
  /** The shared store or limiter (the cluster's Redis) is unreachable and the cached values cannot stand in: retry later. */
  storeUnavailable: () => new SmtpReply(451, '4.3.0 Temporary service failure'),
} as const;
