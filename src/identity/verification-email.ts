import { formatRfc5322Date } from '../message/rfc5322-date.js';
import type { Identity } from '../store/identities.js';

export interface VerificationEmail {
  mailFrom: string;
  recipient: string;
  /** Header section (CRLF-terminated fields) and body, as the queue stores them. */
  header: string;
  body: string;
}

/**
 * The message that asks an address's owner to confirm it, in the spirit of SES's verification email:
 * the owner gets a token that the account's operator confirms with `relaygate identity confirm`.
 */
export function verificationEmail(identity: Identity, region: string, hostname: string, now: Date): VerificationEmail {
  const sender = `no-reply@${hostname}`;
  const body = [
    'Hello,',
    '',
    `We have received a request to authorize this email address for use with relaygate (an Amazon SES-compatible`,
    `gateway at ${hostname}) in region ${region}, for account ${identity.accountId}. If you requested this verification,`,
    'confirm that you are authorized to use this address by giving this token to the gateway operator, or by running:',
    '',
    `  relaygate identity confirm ${identity.name} ${identity.verificationToken} --account ${identity.accountId}`,
    '',
    'The token expires 24 hours after the request. If you did not request it, ignore this message: the address will',
    'not be used without confirmation.',
    '',
  ].join('\r\n');
  const header = [
    `From: relaygate <${sender}>`,
    `To: <${identity.name}>`,
    `Subject: Email address verification request in region ${region}`,
    `Date: ${formatRfc5322Date(now)}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
    'Content-Transfer-Encoding: 7bit',
    'Auto-Submitted: auto-generated',
    '',
  ].join('\r\n');
  return { mailFrom: sender, recipient: identity.name, header, body };
}
