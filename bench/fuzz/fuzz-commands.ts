import type { Prng } from '../prng.js';

/** Who the fuzzer sends as and to: a verified sender domain and a recipient domain whose MX is the sink. */
export interface FuzzAddresses {
  senderDomain: string;
  recipientDomain: string;
  user: string;
  password: string;
}

/** Verbs after which the server may stop reading commands: the next bytes are a message, a TLS handshake or a chunk. */
const MODE_CHANGING = new Set(['DATA', 'STARTTLS', 'BDAT']);
const KNOWN_VERBS = ['HELO', 'EHLO', 'LHLO', 'MAIL', 'RCPT', 'RSET', 'NOOP', 'VRFY', 'EXPN', 'HELP', 'AUTH', 'TURN', 'ETRN', 'XCLIENT', 'XFORWARD', 'WIZ', 'SHELL', 'KILL', 'SEND', 'SOML', 'SAML'];

/**
 * Whether a line could switch the server out of command mode. Both readings of the verb count, up to the first
 * space (smtp-server's) and up to the first whitespace or control character, so a line such as "DATA\tx" is treated
 * as a possible DATA whichever reading the server uses.
 */
export function mayChangeMode(line: Buffer | string): boolean {
  const text = typeof line === 'string' ? line : line.toString('latin1');
  const bySpace = text.split(' ')[0]!.replace(/\r?\n$/, '').toUpperCase();
  const byWhitespace = (/^[^\s\x00-\x1f]*/.exec(text)?.[0] ?? '').toUpperCase();
  return MODE_CHANGING.has(bySpace) || MODE_CHANGING.has(byWhitespace);
}

export function countLines(data: Buffer | string): number {
  let lines = 0;
  if (typeof data === 'string') {
    for (let i = data.indexOf('\n'); i !== -1; i = data.indexOf('\n', i + 1)) lines++;
  } else {
    for (let i = data.indexOf(0x0a); i !== -1; i = data.indexOf(0x0a, i + 1)) lines++;
  }
  return lines;
}

/** A line terminator: mostly CRLF, sometimes a bare LF (which smtp-server also reads as the end of a command). */
export function terminator(rng: Prng): string {
  return rng.chance(0.9) ? '\r\n' : '\n';
}

/** Bytes that are never a line feed: random octets, NUL, 8-bit, bare CR. */
export function junk(rng: Prng, length: number): Buffer {
  const bytes = rng.bytes(length);
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) bytes[i] = 0x00;
  return bytes;
}

export function line(text: string | Buffer, rng: Prng): Buffer {
  return Buffer.concat([typeof text === 'string' ? Buffer.from(text, 'latin1') : text, Buffer.from(terminator(rng), 'latin1')]);
}

export function ehlo(rng: Prng): string {
  return rng.weighted<() => string>([
    [10, () => `EHLO client-${rng.word(1, 12)}.fuzz.test`],
    [2, () => `HELO client.fuzz.test`],
    [1, () => 'EHLO'],
    [1, () => 'EHLO [127.0.0.1]'],
    [1, () => `ehlo ${rng.word(1, 8)}`],
    [1, () => `EHLO ${'h'.repeat(rng.between(200, 2000))}.example`],
    [1, () => `EHLO host\x00name.example`],
    [1, () => `EHLO h\xf6st.example`],
    [1, () => `EHLO a b c d`],
    [1, () => 'LHLO client.fuzz.test'],
  ])();
}

function base64(text: string): string {
  return Buffer.from(text, 'latin1').toString('base64');
}

/** An AUTH exchange: the lines to send one after the other (after each 334 the next one). */
export function auth(rng: Prng, addresses: FuzzAddresses): string[] {
  const { user, password } = addresses;
  return rng.weighted<() => string[]>([
    [20, () => [`AUTH PLAIN ${base64(`\0${user}\0${password}`)}`]],
    [3, () => ['AUTH PLAIN', base64(`\0${user}\0${password}`)]],
    [3, () => ['AUTH LOGIN', base64(user), base64(password)]],
    [2, () => [`AUTH LOGIN ${base64(user)}`, base64(password)]],
    [2, () => [`AUTH PLAIN ${base64(`\0${user}\0${password}x`)}`]],
    [1, () => [`AUTH PLAIN ${base64(`\0AKIA${rng.word(16, 16).toUpperCase()}\0${password}`)}`]],
    [1, () => [`AUTH PLAIN ${base64(`${user}\0${user}\0${password}`)}`]],
    [1, () => [`AUTH PLAIN !!!not-base64!!!`]],
    [1, () => ['AUTH PLAIN', '*']],
    [1, () => ['AUTH LOGIN', '*']],
    [1, () => ['AUTH']],
    [1, () => ['AUTH CRAM-MD5']],
    [1, () => ['AUTH XOAUTH2 dXNlcj1mb28BYXV0aD1CZWFyZXIgeAEB']],
    [1, () => [`AUTH PLAIN ${base64(`\0${user}\0${'p'.repeat(rng.between(100, 12_000))}`)}`]],
    [1, () => [`AUTH PLAIN ${base64(`\0${user}\0pass\x00word\xff`)}`]],
  ])();
}

export function sender(rng: Prng, addresses: FuzzAddresses): string {
  return rng.weighted<() => string>([
    [20, () => `<sender@${addresses.senderDomain}>`],
    [3, () => `<${rng.word(1, 20)}@${addresses.senderDomain}>`],
    [2, () => `sender@${addresses.senderDomain}`],
    [2, () => '<>'],
    [1, () => `<sender@${addresses.senderDomain}> SIZE=${rng.between(0, 20_000_000)}`],
    [1, () => `<sender@${addresses.senderDomain}> BODY=8BITMIME`],
    [1, () => `<sender@${addresses.senderDomain}> SMTPUTF8`],
    [1, () => `<sender@${addresses.senderDomain}> SIZE=99999999999999999999`],
    [1, () => `<sender@${addresses.senderDomain}> FOO=bar BAZ`],
    [1, () => `<sender@${addresses.senderDomain}> SIZE=1 SIZE=2`],
    [1, () => `<sender@unverified-${rng.word(3, 8)}.example>`],
    ...oddAddresses(rng, addresses.senderDomain),
  ])();
}

export function recipient(rng: Prng, addresses: FuzzAddresses): string {
  return rng.weighted<() => string>([
    [20, () => `<${rng.word(1, 12)}@${addresses.recipientDomain}>`],
    [2, () => `${rng.word(1, 12)}@${addresses.recipientDomain}`],
    [1, () => `<${rng.word(1, 12)}@nowhere.${addresses.recipientDomain}>`],
    [1, () => '<postmaster>'],
    [1, () => '<>'],
    [1, () => `<${rng.word(1, 12)}@${addresses.recipientDomain}> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;x@y`],
    [1, () => `<${rng.word(1, 12)}@${addresses.recipientDomain}> NOTIFY=`],
    ...oddAddresses(rng, addresses.recipientDomain),
  ])();
}

function oddAddresses(rng: Prng, domain: string): Array<readonly [number, () => string]> {
  return [
    [1, () => `<"quoted local part"@${domain}>`],
    [1, () => `<@route.example:someone@${domain}>`],
    [1, () => `<someone@[127.0.0.1]>`],
    [1, () => `<someone@${domain}`],
    [1, () => `<some one@${domain}>`],
    [1, () => `<s\xf6meone@${domain}>`],
    [1, () => `<some\x00one@${domain}>`],
    [1, () => `<some\rone@${domain}>`],
    [1, () => `<${'l'.repeat(rng.between(65, 3000))}@${domain}>`],
    [1, () => `<someone@${`${rng.word(10, 63)}.`.repeat(rng.between(5, 40))}example>`],
    [1, () => `<someone@xn--bcher-kva.example>`],
    [1, () => `< someone@${domain} >`],
    [1, () => `<someone@${domain}>>`],
    [1, () => `<<someone@${domain}>`],
    [1, () => `<someone@>`],
    [1, () => `<@${domain}>`],
    [1, () => `<someone>`],
    [1, () => `<someone@${domain}>${' X=1'.repeat(rng.between(20, 400))}`],
  ];
}

export function mailFrom(rng: Prng, addresses: FuzzAddresses): string {
  const address = sender(rng, addresses);
  return rng.weighted<() => string>([
    [20, () => `MAIL FROM:${address}`],
    [1, () => `mail from:${address}`],
    [1, () => `MAIL FROM: ${address}`],
    [1, () => `MAIL FROM:\t${address}`],
    [1, () => `MAIL FROM ${address}`],
    [1, () => `MAIL ${address}`],
    [1, () => 'MAIL FROM:'],
    [1, () => 'MAIL'],
  ])();
}

export function rcptTo(rng: Prng, addresses: FuzzAddresses): string {
  const address = recipient(rng, addresses);
  return rng.weighted<() => string>([
    [20, () => `RCPT TO:${address}`],
    [1, () => `rcpt to:${address}`],
    [1, () => `RCPT TO: ${address}`],
    [1, () => `RCPT TO ${address}`],
    [1, () => 'RCPT TO:'],
    [1, () => 'RCPT'],
  ])();
}

/** A command line that is never one of the mode-changing ones: other verbs, random verbs and random bytes. */
export function otherCommand(rng: Prng): string | Buffer {
  const text = rng.weighted<() => string | Buffer>([
    [6, () => 'NOOP'],
    [4, () => 'RSET'],
    [2, () => `VRFY ${rng.word(1, 10)}`],
    [1, () => `EXPN ${rng.word(1, 10)}`],
    [1, () => 'HELP'],
    [2, () => `${rng.pick(KNOWN_VERBS)} ${rng.word(0, 30)}`],
    [3, () => `${rng.word(1, 10).toUpperCase()} ${rng.word(0, 40)}`],
    [1, () => ''],
    [1, () => ' '],
    [1, () => 'NOOP \x00\x01\x02'],
    [1, () => 'NOOP \xff\xfe\x80'],
    [1, () => 'NOOP with a bare\rCR'],
    [4, () => junk(rng, rng.between(1, 200))],
    [1, () => 'GET / HTTP/1.1'],
    [1, () => 'QUIT extra'],
    [1, () => `BDAT ${rng.between(0, 20)} LAST`],
  ])();
  // A random verb may happen to spell DATA or STARTTLS; those are only sent where the session expects them.
  return mayChangeMode(text) ? 'NOOP' : text;
}

/** A line longer than any limit should allow: up to a little over smtp-server's 16 KiB, sometimes far beyond. */
export function longLine(rng: Prng): string {
  const length = rng.weighted<() => number>([
    [4, () => rng.between(513, 2000)],
    [2, () => rng.between(16_000, 16_500)],
    [1, () => rng.between(17_000, 200_000)],
  ])();
  const verb = rng.pick(['NOOP ', 'MAIL FROM:<', 'RCPT TO:<', 'EHLO ', 'X']);
  return verb + 'a'.repeat(Math.max(0, length - verb.length));
}
