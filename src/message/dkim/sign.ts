import { createHash, sign, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { parseHeaderSection, type HeaderField } from '../header-section.js';
import { checkDkimNames } from './dns-record.js';
import { DkimError } from './dkim-error.js';
import { loadPrivateKey } from './keys.js';
import type { DkimAlgorithm } from './keys.js';
import { RelaxedBodyHash, relaxedHeaderField } from './relaxed-canonicalization.js';

/**
 * Headers signed when present. Left out on purpose: Return-Path, Received and Bcc (added, rewritten or removed on
 * the way) and X-SES-* (the gateway strips them; the SES guide says they must not be signed).
 */
export const DEFAULT_SIGNED_HEADERS: readonly string[] = [
  'From',
  'Sender',
  'Reply-To',
  'Subject',
  'Date',
  'Message-ID',
  'To',
  'Cc',
  'MIME-Version',
  'Content-Type',
  'Content-Transfer-Encoding',
  'In-Reply-To',
  'References',
  'List-Unsubscribe',
  'List-Unsubscribe-Post',
  'Feedback-ID',
];

const UNSIGNABLE_HEADER = /^(?:return-path|received|bcc|x-ses-.*)$/i;
const HEADER_NAME = /^[!-9;-~]+$/;

export interface DkimSigner {
  domain: string;
  selector: string;
  privateKeyPem: string;
  algorithm: DkimAlgorithm;
}

export interface SignOptions {
  /** The t= tag; defaults to now. */
  signTime?: Date;
  headerList?: readonly string[];
}

/** Keys already checked and decoded, by PEM: decoding costs more than the signature itself (about 0.3 ms for RSA-2048). */
const keyCache = new Map<string, { key: KeyObject; algorithm: DkimAlgorithm }>();
const KEY_CACHE_SIZE = 1000;
const LINE_LENGTH = 76;
const BLANK_LINE = Buffer.from('\r\n\r\n');

/** The message to sign: whole, or its chunks in order (strings are latin1). */
export type SignedMessage = Buffer | NodeJS.ReadableStream | AsyncIterable<Buffer | string> | Iterable<Buffer>;

/** crypto.sign with a callback runs in libuv's thread pool, so RSA signatures do not hold up the event loop. */
const signInPool = promisify(sign) as (algorithm: string | null, data: Buffer, key: KeyObject) => Promise<Buffer>;

/**
 * Returns one relaxed/relaxed DKIM-Signature field per signer, CRLF-terminated, to prepend to the message.
 * The message streams once: the body is hashed as it passes, so it is never held in memory.
 */
export async function signMessage(message: SignedMessage, signers: readonly DkimSigner[], options: SignOptions = {}): Promise<string> {
  if (signers.length === 0) return '';
  const keys = signers.map(signingKey);
  const headerList = options.headerList ?? DEFAULT_SIGNED_HEADERS;
  checkHeaderList(headerList);

  const parts = await headerAndBodyHash(message);
  if (!parts) throw new DkimError('DKIM signing produced no signature: the message has no header section ending in a blank line');
  const fields = signedFields(parseHeaderSection(parts.header), headerList);
  if (!fields.some((field) => field.name.toLowerCase() === 'from')) throw new DkimError('DKIM signing needs a From header field (RFC 6376 5.4)');
  const signedHeader = fields.map((field) => relaxedHeaderField(field.raw)).join('');
  const signTime = Math.floor((options.signTime ?? new Date()).getTime() / 1000);
  const signatures = await Promise.all(signers.map((signer, index) => signatureField(signer, keys[index]!, fields, signedHeader, parts.bodyHash, signTime)));
  return signatures.join('');
}

function signingKey(signer: DkimSigner): KeyObject {
  checkDkimNames(signer.selector, signer.domain);
  let loaded = keyCache.get(signer.privateKeyPem);
  if (!loaded) {
    loaded = loadPrivateKey(signer.privateKeyPem);
    if (keyCache.size >= KEY_CACHE_SIZE) keyCache.clear();
    keyCache.set(signer.privateKeyPem, loaded);
  }
  if (loaded.algorithm !== signer.algorithm) {
    throw new DkimError(`DKIM key for ${signer.selector}._domainkey.${signer.domain} is a ${loaded.algorithm} key but ${signer.algorithm} was requested`);
  }
  return loaded.key;
}

/**
 * The header section (CRLF-terminated fields) and the relaxed body hash; null when no blank line ends the header.
 * Only the header section becomes a string: the body goes to the hash as the Buffers it came in.
 */
async function headerAndBodyHash(message: SignedMessage): Promise<{ header: string; bodyHash: string } | null> {
  const body = new RelaxedBodyHash();
  let head: Buffer = Buffer.alloc(0);
  let header: string | null = null;
  for await (const chunk of Buffer.isBuffer(message) ? [message] : message) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : (chunk as Buffer);
    if (header !== null) {
      body.update(bytes);
      continue;
    }
    // The blank line may straddle chunks: look again from just before the new bytes.
    const from = Math.max(0, head.length - 3);
    head = head.length === 0 ? bytes : Buffer.concat([head, bytes]);
    // Where the blank line starts; a message whose first line is blank has an empty header section.
    const blank = head[0] === 0x0d && head[1] === 0x0a ? -2 : head.indexOf(BLANK_LINE, from);
    if (blank === -1) continue;
    header = head.toString('latin1', 0, blank + 2);
    body.update(head.subarray(blank + 4));
  }
  return header === null ? null : { header, bodyHash: body.digest() };
}

/** The fields to sign, every instance of each listed name, bottom-up as RFC 6376 5.4.2 advises. */
function signedFields(fields: HeaderField[], headerList: readonly string[]): HeaderField[] {
  const names = new Set(headerList.map((name) => name.toLowerCase()));
  return fields.filter((field) => names.has(field.name.toLowerCase())).reverse();
}

async function signatureField(signer: DkimSigner, key: KeyObject, fields: HeaderField[], signedHeader: string, bodyHash: string, signTime: number): Promise<string> {
  const lines = new FoldedLines('DKIM-Signature:');
  for (const tag of ['v=1;', `a=${signer.algorithm};`, 'c=relaxed/relaxed;', `d=${signer.domain};`, `s=${signer.selector};`, `t=${signTime};`, `bh=${bodyHash};`]) lines.add(tag, ' ');
  fields.forEach((field, index) => lines.add(`${index === 0 ? 'h=' : ''}${field.name}${index === fields.length - 1 ? ';' : ':'}`, index === 0 ? ' ' : ''));
  lines.add('b=', ' ');
  const unsigned = lines.text();
  // The signature covers the signed fields and this field with an empty b= (RFC 6376 3.7), no CRLF after it.
  const data = Buffer.from(signedHeader + relaxedHeaderField(unsigned).slice(0, -2), 'latin1');
  const signature = signer.algorithm === 'ed25519-sha256' ? await signInPool(null, createHash('sha256').update(data).digest(), key) : await signInPool('sha256', data, key);
  return `${unsigned}${foldBase64(signature.toString('base64'), unsigned.length - unsigned.lastIndexOf('\n') - 1)}\r\n`;
}

/** Builds a header field with lines kept under LINE_LENGTH, folding before a token where a space or a colon allows it. */
class FoldedLines {
  private readonly lines: string[];

  constructor(start: string) {
    this.lines = [start];
  }

  add(token: string, separator: string): void {
    const last = this.lines.length - 1;
    if (this.lines[last]!.length + separator.length + token.length > LINE_LENGTH) this.lines.push(` ${token}`);
    else this.lines[last] += separator + token;
  }

  text(): string {
    return this.lines.join('\r\n');
  }
}

/** The b= value continued on folded lines; folding white space inside b= is ignored by verifiers (RFC 6376 3.5). */
function foldBase64(value: string, used: number): string {
  const parts: string[] = [];
  let rest = value;
  let room = Math.max(LINE_LENGTH - used, 8);
  while (rest.length > room) {
    parts.push(rest.slice(0, room));
    rest = rest.slice(room);
    room = LINE_LENGTH - 1;
  }
  parts.push(rest);
  return parts.join('\r\n ');
}

function checkHeaderList(headerList: readonly string[]): void {
  if (!headerList.some((name) => name.toLowerCase() === 'from')) throw new DkimError('the DKIM header list must include From (RFC 6376 5.4)');
  for (const name of headerList) {
    if (!HEADER_NAME.test(name)) throw new DkimError(`"${name}" is not a header field name`);
    if (UNSIGNABLE_HEADER.test(name)) throw new DkimError(`${name} must not be DKIM-signed: the gateway adds, rewrites or removes it`);
  }
}
