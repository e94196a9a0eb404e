import { UsageError } from '../src/cli/cli-context.js';
import { formatRfc5322Date } from '../src/message/rfc5322-date.js';

export interface BenchMessage {
  mailFrom: string;
  recipient(index: number): string;
  /** The message's bytes followed by the end-of-data line, ready to send after 354. */
  chunks(index: number): Buffer[];
}

/** The header that names a message within the whole bench: "<run tag> <index>", so the sink can count each one. */
export const TOKEN_HEADER = 'X-Bench-Token';

const BODY_LINE = 'relaygate benchmark body text, long enough to look like a real line of mail.';
/** Wide enough for any message count, so every message has the same size. */
const INDEX_DIGITS = 9;

/**
 * Messages of exactly `size` bytes (headers included, end-of-data line excluded). Only the headers differ from one
 * message to the next, so the shared body is built once; no line starts with a dot, so no dot-stuffing is needed.
 * `runTag` (no spaces) makes the Message-ID and the token unique to one run.
 */
export function benchMessage(size: number, senderDomain: string, recipientDomain: string, runTag: string): BenchMessage {
  const mailFrom = `sender@${senderDomain}`;
  const number = (index: number) => String(index).padStart(INDEX_DIGITS, '0');
  const recipient = (index: number) => `rcpt-${number(index)}@${recipientDomain}`;
  const date = formatRfc5322Date(new Date());
  const headers = (index: number) =>
    Buffer.from(
      [
        `From: Bench Sender <${mailFrom}>`,
        `To: <${recipient(index)}>`,
        `Subject: relaygate benchmark message ${number(index)}`,
        `Date: ${date}`,
        `Message-ID: <${number(index)}.${runTag}@${senderDomain}>`,
        `${TOKEN_HEADER}: ${runTag} ${number(index)}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=us-ascii',
        '',
        '',
      ].join('\r\n'),
      'latin1',
    );
  const headerBytes = headers(0).length;
  if (size < headerBytes + 2) throw new UsageError(`--size must be at least ${headerBytes + 2} bytes (the headers take ${headerBytes})`);
  const body = Buffer.from(`${fillBody(size - headerBytes)}.\r\n`, 'latin1');
  return { mailFrom, recipient, chunks: (index) => [headers(index), body] };
}

/** Lines of text ending in CRLF, exactly `bytes` long (at least 2). */
export function fillBody(bytes: number): string {
  const line = `${BODY_LINE}\r\n`;
  const whole = Math.floor((bytes - 2) / line.length);
  return `${line.repeat(whole)}${BODY_LINE.slice(0, bytes - 2 - whole * line.length)}\r\n`;
}
