import type { UnsendableContent } from '../message/transport-guard.js';
import type { DeliveryResolutionError } from './mx/index.js';

const UNSENDABLE: Record<Exclude<UnsendableContent, 'eight-bit'>, string> = {
  nul: 'it contains a NUL byte',
  'bare-line-ending': 'it contains a CR or LF outside a CRLF pair',
  'long-line': 'a line is longer than 998 bytes (RFC 5321 4.5.3.1.6)',
};

/**
 * Replies the gateway records for failures no remote server answered, written as SMTP replies with RFC 3463 codes
 * so that they read like the rest and the bounce rules classify them like any other reply.
 */
export const GatewayReplies = {
  /** RFC 7505 3.3 gives 556 5.1.10 for a null MX; 5.1.2 is a destination that does not exist; 5.4.4 no route. */
  resolution(error: DeliveryResolutionError): string {
    switch (error.code) {
      case 'NULL_MX':
        return `556 5.1.10 ${error.message}`;
      case 'PRIVATE_TARGETS_REFUSED':
        return `550 5.4.4 ${error.message}`;
      default:
        return error.permanent ? `550 5.1.2 ${error.message}` : `451 4.4.3 ${error.message}`;
    }
  },
  /** RFC 8461 5: delivery to an MX the enforced policy does not list must not happen; it is a temporary failure. */
  mtaStsNoMatchingMx: (domain: string, hosts: string[]) => `451 4.7.5 The MTA-STS policy of ${domain} lists none of its MX hosts (${hosts.join(', ')})`,
  /** The configuration set's TLS policy is Require: SES drops the message rather than send it in plaintext. */
  tlsRequired: (mxHost: string, reply: string) => `554 5.7.10 TLS is required for this message, but ${mxHost} does not offer STARTTLS (${reply.replace(/\s+/g, ' ')})`,
  /** RFC 3463: 5.6.3 conversion required but not supported; 5.6.0 other media error. */
  unsendableContent: (content: UnsendableContent, mxHost: string) =>
    content === 'eight-bit'
      ? `554 5.6.3 The message has 8-bit data and ${mxHost} does not offer 8BITMIME (RFC 6152)`
      : `554 5.6.0 The message cannot be sent as it is: ${UNSENDABLE[content]}`,
  preparationFailed: (reason: string) => `451 4.3.0 The message could not be prepared for delivery: ${reason}`,
  /** A fault of the gateway itself while routing: temporary, the next attempt may not meet it. */
  internalError: (reason: string) => `451 4.3.0 Delivery failed in the gateway: ${reason}`,
} as const;
