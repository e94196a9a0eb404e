import { junk } from './fuzz-commands.js';
import type { Prng } from '../prng.js';

/** smtp.maxMessageBytes of the gateway under test (its default), so some messages are just over it. */
export const MESSAGE_LIMIT = 10 * 1024 * 1024;

const TEXT = 'The quick brown fox jumps over the lazy dog 0123456789 ';

function text(rng: Prng, length: number): string {
  let line = '';
  while (line.length < length) line += TEXT.slice(rng.int(TEXT.length));
  return line.slice(0, length);
}

/** One header line (without its line ending): ordinary, odd or huge. */
function header(rng: Prng): Buffer | string {
  return rng.weighted<() => Buffer | string>([
    [10, () => `X-Fuzz-${rng.word(1, 10)}: ${text(rng, rng.between(0, 80))}`],
    [2, () => `Subject: ${text(rng, rng.between(0, 200))}\r\n\t${text(rng, rng.between(1, 60))}`],
    [1, () => `X-Long: ${text(rng, rng.between(999, 5000))}`],
    [1, () => `X-Very-Long: ${text(rng, rng.between(20_000, 200_000))}`],
    [1, () => `X-Eight-Bit: caf\xe9 \xff\xfe`],
    [1, () => `X-Nul: a\x00b`],
    [1, () => `X-Bare-Cr: a\rb`],
    [1, () => `X-Bare-Lf: a\nb`],
    [1, () => `No colon in this header line`],
    [1, () => `: empty name`],
    [1, () => ` continuation without a header`],
    [1, () => `X-SES-CONFIGURATION-SET: ${rng.pick(['ConfigSet', rng.word(1, 20), ''])}`],
    [1, () => `X-SES-MESSAGE-TAGS: ${rng.pick(['a=b, c=d', '=', 'x'.repeat(300), 'k=v;k=v', rng.word(0, 30)])}`],
    [1, () => `X-SES-SOURCE-ARN: arn:aws:ses:us-east-1:${rng.word(12, 12)}:identity/${rng.word(1, 10)}`],
    [1, () => `Bcc: hidden@${rng.word(3, 8)}.example`],
    [1, () => `Message-ID: <${rng.word(1, 30)}@fuzz.test>`],
    [1, () => `Content-Type: ${rng.pick(['text/plain; charset=utf-8', 'multipart/mixed; boundary="b"', 'multipart/mixed', 'x/y; ;;'])}`],
    [1, () => `Content-Transfer-Encoding: ${rng.pick(['8bit', 'base64', 'quoted-printable', 'binary', 'bogus'])}`],
    [1, () => junk(rng, rng.between(1, 300))],
  ])();
}

/** One body line (without its line ending), sometimes made to test dot-stuffing, line length or 8-bit handling. */
function bodyLine(rng: Prng): Buffer | string {
  return rng.weighted<() => Buffer | string>([
    [30, () => text(rng, rng.between(0, 78))],
    [4, () => ''],
    [3, () => rng.pick(['.', '..', '...', '. ', '.x', '.\r', '..\r'])],
    [2, () => text(rng, rng.between(990, 1010))],
    [1, () => text(rng, rng.between(1011, 20_000))],
    [1, () => `bare\rCR`],
    [1, () => `nul\x00byte`],
    [1, () => `eight-bit \xe9\xe8\xff`],
    [1, () => `\n.\n`],
    [1, () => `\r.\r`],
    [1, () => `\n.\r\n.`],
    [1, () => `x\n.\n\r\nQUIT`],
    [2, () => junk(rng, rng.between(1, 400))],
  ])();
}

/**
 * The content of a message as the client means it (before dot-stuffing): headers, body, and odd ends. Mostly small;
 * some above the 128 KiB inline limit (spooled to a file), a few above the size limit, a few with a header section
 * over 1 MiB.
 */
export function messageContent(rng: Prng, from: string, to: string): Buffer {
  const parts: Array<Buffer | string> = [];
  const eol = () => rng.weighted<string>([
    [30, '\r\n'],
    [1, '\n'],
    [1, '\r'],
  ]);
  const shape = rng.weighted<string>([
    [40, 'normal'],
    [3, 'large'],
    [1, 'huge-header'],
    [0.3, 'oversized'],
    [2, 'empty'],
    [2, 'headers-only'],
    [2, 'body-only'],
    [2, 'binary'],
  ]);
  if (shape === 'empty') return Buffer.alloc(0);
  if (shape === 'binary') return junk(rng, rng.between(1, 5000));
  if (shape !== 'body-only') {
    if (rng.chance(0.95)) parts.push(`From: ${from}`, '\r\n', `To: ${to}`, '\r\n', `Subject: fuzz ${rng.word(1, 10)}`, '\r\n');
    for (let i = rng.between(0, 8); i > 0; i--) parts.push(header(rng), eol());
    if (shape === 'huge-header') {
      const line = `X-Filler: ${text(rng, 990)}\r\n`;
      parts.push(line.repeat(Math.ceil((1024 * 1024 + rng.between(1, 100_000)) / line.length)));
    }
    if (shape === 'headers-only') return toBuffer(parts);
    parts.push(rng.chance(0.95) ? '\r\n' : eol());
  }
  if (shape === 'large' || shape === 'oversized') {
    const target = shape === 'large' ? rng.between(128 * 1024, 400 * 1024) : MESSAGE_LIMIT + rng.between(1, 100_000);
    // Long lines (under 998 bytes), so a large message costs few lines of the run's budget.
    const line = `${text(rng, 900)}\r\n`;
    parts.push(line.repeat(Math.ceil(target / line.length)));
  }
  const bodyLines = rng.weighted<() => number>([
    [5, () => rng.between(0, 20)],
    [4, () => rng.between(20, 200)],
    [1, () => rng.between(200, 2000)],
  ])();
  for (let i = bodyLines; i > 0; i--) parts.push(bodyLine(rng), eol());
  if (rng.chance(0.1)) parts.pop();
  return toBuffer(parts);
}

function toBuffer(parts: Array<Buffer | string>): Buffer {
  return Buffer.concat(parts.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part)));
}

const CRLF_DOT = Buffer.from('\r\n.', 'latin1');

/**
 * The message as sent after DATA: dot-stuffed (RFC 5321 4.5.2: a dot at the start of a line, that is at the start or
 * after CRLF, is doubled) and ended with <CRLF>.<CRLF>. Only that sequence ends DATA, so after stuffing the end of
 * the message is exactly where this puts it, whatever bare CRs and LFs the content holds.
 */
export function dataTransfer(content: Buffer): Buffer {
  const pieces: Buffer[] = [];
  let start = 0;
  if (content[0] === 0x2e) pieces.push(Buffer.from('.'));
  for (let at = content.indexOf(CRLF_DOT); at !== -1; at = content.indexOf(CRLF_DOT, at + 1)) {
    pieces.push(content.subarray(start, at + 3), Buffer.from('.'));
    start = at + 3;
  }
  pieces.push(content.subarray(start));
  const endsWithCrlf = content.length >= 2 && content[content.length - 2] === 0x0d && content[content.length - 1] === 0x0a;
  pieces.push(Buffer.from(content.length === 0 || endsWithCrlf ? '.\r\n' : '\r\n.\r\n', 'latin1'));
  return Buffer.concat(pieces);
}
