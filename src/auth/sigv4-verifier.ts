import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Account, ControlStore, Credential } from '../store/control-store.js';
import type { SecretBox } from './secret-box.js';

/** AWS allows a request time this far from the server's clock, either way. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;

export interface SignedRequest {
  method: string;
  /** The path and query exactly as sent (still percent-encoded). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Why a request is refused, in the terms of AWS's error codes. */
export type SigV4Failure =
  | { code: 'MissingAuthenticationToken'; message: string }
  | { code: 'IncompleteSignature'; message: string }
  | { code: 'InvalidClientTokenId'; message: string }
  | { code: 'SignatureDoesNotMatch'; message: string }
  | { code: 'RequestTimeTooSkewed'; message: string }
  | { code: 'InvalidSignatureException'; message: string };

export type SigV4Result = { ok: true; credential: Credential; account: Account } | { ok: false; failure: SigV4Failure };

const AUTHORIZATION = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
const uriEncode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

/** Non-S3 services sign the path as sent, each segment encoded once more (botocore and the JS SDK both do). */
function canonicalPath(path: string): string {
  return (path || '/').split('/').map(uriEncode).join('/');
}

function canonicalQuery(query: string): string {
  if (!query) return '';
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const key = equals === -1 ? pair : pair.slice(0, equals);
      const value = equals === -1 ? '' : pair.slice(equals + 1);
      return [uriEncode(safeDecode(key)), uriEncode(safeDecode(value))] as const;
    })
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function headerValue(headers: SignedRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

function parseAmzDate(text: string): Date | null {
  const match = AMZ_DATE.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
}

/** Remembers signatures seen within the skew window, so a captured request cannot be sent again. */
class ReplayGuard {
  private readonly seen = new Map<string, number>();

  /** True the first time a signature is presented. */
  firstUse(signature: string, now: number): boolean {
    if (this.seen.size > 10_000) for (const [key, expires] of this.seen) if (expires < now) this.seen.delete(key);
    const expires = this.seen.get(signature);
    if (expires !== undefined && expires >= now) return false;
    this.seen.set(signature, now + 2 * MAX_CLOCK_SKEW_MS);
    return true;
  }
}

const compactTime = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, '');

/** AWS's wording for a request time outside the window, or undefined when it is inside. */
function skewMessage(requestTime: Date, now: Date): string | undefined {
  const earliest = new Date(now.getTime() - MAX_CLOCK_SKEW_MS);
  const latest = new Date(now.getTime() + MAX_CLOCK_SKEW_MS);
  if (requestTime < earliest) return `Signature expired: ${compactTime(requestTime)} is now earlier than ${compactTime(earliest)} (${compactTime(now)} - 15 min.)`;
  if (requestTime > latest) return `Signature not yet current: ${compactTime(requestTime)} is still later than ${compactTime(latest)} (${compactTime(now)} + 15 min.)`;
  return undefined;
}

const fail = (code: SigV4Failure['code'], message: string): SigV4Result => ({ ok: false, failure: { code, message } as SigV4Failure });

/**
 * Checks AWS Signature Version 4 (header form) against the gateway's credentials: the scope's region and service
 * must be this gateway's and `ses`, the request time within 15 minutes, and the signature unused so far.
 */
export class SigV4Verifier {
  private readonly replays = new ReplayGuard();

  constructor(
    private readonly store: ControlStore,
    private readonly box: SecretBox,
    private readonly region: string,
  ) {}

  async verify(request: SignedRequest, now = new Date()): Promise<SigV4Result> {
    const authorization = headerValue(request.headers, 'authorization');
    if (!authorization) return fail('MissingAuthenticationToken', 'Request is missing Authentication Token');
    const match = AUTHORIZATION.exec(authorization);
    if (!match) return fail('IncompleteSignature', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters with algorithm AWS4-HMAC-SHA256. Authorization=${authorization.split(/\s/)[0]}`);
    const [, credentialText, signedHeaderText, signature] = match as unknown as [string, string, string, string];
    const [accessKeyId, scopeDate, scopeRegion, scopeService, terminal] = credentialText.split('/');
    if (!accessKeyId || !scopeDate || !scopeRegion || !scopeService || terminal !== 'aws4_request') {
      return fail('IncompleteSignature', `Credential should be scoped to a valid region, not '${scopeRegion ?? ''}'.`);
    }
    const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
    const requestTime = parseAmzDate(amzDate) ?? (headerValue(request.headers, 'date') ? new Date(headerValue(request.headers, 'date') as string) : null);
    if (!requestTime || Number.isNaN(requestTime.getTime())) return fail('IncompleteSignature', 'Authorization header requires existence of either a \'X-Amz-Date\' or a \'Date\' header.');

    const credential = await this.store.credentials.get(accessKeyId);
    if (!credential || credential.revokedAt) return fail('InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (scopeService !== 'ses') return fail('SignatureDoesNotMatch', `Credential should be scoped to correct service: 'ses'.`);
    if (scopeRegion !== this.region) return fail('SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${scopeRegion}'.`);
    const skew = skewMessage(requestTime, now);
    if (skew) return fail('RequestTimeTooSkewed', skew);
    const secret = credential.sealedSecret ? this.box.open(credential.sealedSecret, credential.accessKeyId) : null;
    if (!secret) return fail('InvalidClientTokenId', 'The security token included in the request is invalid: this credential was imported with its SMTP password only; import it with --secret-access-key to use the HTTP API.');

    const signedHeaders = signedHeaderText.split(';');
    if (!signedHeaders.includes('host')) return fail('SignatureDoesNotMatch', "'Host' must be a signed header.");
    const [path = '', query = ''] = request.url.split(/\?(.*)/s);
    const canonicalHeaders = signedHeaders.map((name) => `${name}:${(headerValue(request.headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
    const canonicalRequest = [request.method, canonicalPath(path), canonicalQuery(query), canonicalHeaders, signedHeaderText, sha256(request.body)].join('\n');
    const scope = `${scopeDate}/${scopeRegion}/${scopeService}/aws4_request`;
    const stringToSign = ['AWS4-HMAC-SHA256', amzDate || compactTime(requestTime), scope, sha256(canonicalRequest)].join('\n');
    let key = hmac(`AWS4${secret}`, scopeDate);
    for (const part of [scopeRegion, scopeService, 'aws4_request']) key = hmac(key, part);
    const expected = hmac(key, stringToSign);
    if (!timingSafeEqual(expected, Buffer.from(signature, 'hex'))) {
      return fail('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    }
    if (!this.replays.firstUse(signature, now.getTime())) return fail('InvalidSignatureException', 'Signature has already been used: a request cannot be sent twice.');
    const account = await this.store.accounts.get(credential.accountId);
    if (!account) return fail('InvalidClientTokenId', 'The security token included in the request is invalid.');
    return { ok: true, credential, account };
  }
}
