import type { Readable } from 'node:stream';
import { dkimSign } from 'mailauth/lib/dkim/sign.js';
import { checkDkimNames } from './dns-record.js';
import { DkimError } from './dkim-error.js';
import { publicKeyFromPrivate } from './keys.js';
import type { DkimAlgorithm } from './keys.js';

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

type MailauthSignOptions = Parameters<typeof dkimSign>[1];
type MailauthSignError = { signingDomain?: string; selector?: string; err?: Error };

/**
 * Returns one relaxed/relaxed DKIM-Signature field per signer, CRLF-terminated, to prepend to the message.
 * All signatures are computed in a single pass over the message.
 */
export async function signMessage(message: Buffer | NodeJS.ReadableStream, signers: readonly DkimSigner[], options: SignOptions = {}): Promise<string> {
  if (signers.length === 0) return '';
  signers.forEach(checkSigner);
  const headerList = options.headerList ?? DEFAULT_SIGNED_HEADERS;
  checkHeaderList(headerList);

  // mailauth's typings describe a single top-level signer, but v4 signs only what is in signatureData,
  // and reads headerList only as a colon-separated string (an array silently falls back to its defaults).
  const signOptions = {
    canonicalization: 'relaxed/relaxed',
    signTime: options.signTime ?? new Date(),
    headerList: headerList.join(':'),
    signatureData: signers.map((signer) => ({ signingDomain: signer.domain, selector: signer.selector, privateKey: signer.privateKeyPem, algorithm: signer.algorithm })),
  } as unknown as MailauthSignOptions;
  // mailauth only pipe()s a stream, which every NodeJS.ReadableStream supports.
  const result = await dkimSign(message as Buffer | Readable, signOptions);

  // v4 reports errors as { signingDomain, selector, err } records, not as Error objects.
  const [failure] = result.errors as unknown as MailauthSignError[];
  if (failure) throw new DkimError(`DKIM signing for ${failure.selector}._domainkey.${failure.signingDomain} failed: ${failure.err?.message ?? 'unknown error'}`);
  const signatureCount = result.signatures.match(/^DKIM-Signature:/gim)?.length ?? 0;
  if (signatureCount !== signers.length) throw new DkimError('DKIM signing produced no signature: the message has no header section ending in a blank line');
  return result.signatures;
}

function checkSigner(signer: DkimSigner): void {
  checkDkimNames(signer.selector, signer.domain);
  const { algorithm } = publicKeyFromPrivate(signer.privateKeyPem);
  if (algorithm !== signer.algorithm) {
    throw new DkimError(`DKIM key for ${signer.selector}._domainkey.${signer.domain} is a ${algorithm} key but ${signer.algorithm} was requested`);
  }
}

function checkHeaderList(headerList: readonly string[]): void {
  if (!headerList.some((name) => name.toLowerCase() === 'from')) throw new DkimError('the DKIM header list must include From (RFC 6376 5.4)');
  for (const name of headerList) {
    if (!HEADER_NAME.test(name)) throw new DkimError(`"${name}" is not a header field name`);
    if (UNSIGNABLE_HEADER.test(name)) throw new DkimError(`${name} must not be DKIM-signed: the gateway adds, rewrites or removes it`);
  }
}
