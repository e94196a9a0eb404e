import { Replies } from './replies.js';
import type { CommandVerdict } from './smtp-server-compat.js';

const NON_ASCII = /[^\x00-\x7f]/;
// MAIL FROM / RCPT TO with an address but without angle brackets, as in the guide's own transcript.
const UNBRACKETED = /^(MAIL\s+FROM|RCPT\s+TO)\s*:\s*([^<\s]\S*)(.*)$/is;

/**
 * Envelope commands: non-ASCII addresses are refused (SES requires 7-bit envelopes; punycode domains
 * are fine), and `MAIL FROM: a@b` is read as `MAIL FROM:<a@b>`.
 */
export function envelopeCommandVerdict(line: string): CommandVerdict {
  if (NON_ASCII.test(line)) return { reply: Replies.nonAsciiAddress() };
  const match = UNBRACKETED.exec(line);
  if (!match) return undefined;
  return { rewrite: `${match[1]}:<${match[2]}>${match[3]}` };
}
