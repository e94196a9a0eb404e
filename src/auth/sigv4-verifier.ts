import { timingSafeEqual } from 'node:crypto';
import type { ControlStore, Credential } from '../store/control-store.js';
import type { ReplayGuard } from './replay-guard.js';
import type { SecretBox } from './secret-box.js';
import { canonicalHeaders, canonicalPath, canonicalQuery, headerValue, hmac, queryParameters, sha256Hex } from './sigv4-canonical.js';
import { SigningKeys } from './sigv4-signing-keys.js';

/** AWS allows a request time this far from the server's clock, either way. */
export const MAX_CLOCK_SKEW_MS = 15 * 60_000;
/** The longest X-Amz-Expires of a presigned URL (seven days), as AWS allows. */
export const MAX_PRESIGNED_EXPIRY_SECONDS = 604_800;

export interface SignedRequest {
  method: string;
  /** The path and query exactly as sent (still percent-encoded). */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * Reads the body; called only once the credential, its scope and the request time are acceptable, so that a client
   * without a credential cannot make the gateway buffer a body (up to 1.5 × smtp.maxMessageBytes).
   */
  body: () => Promise<Buffer>;
}

/** Why a request is refused, in the terms of AWS's error codes. */
export type SigV4Failure =
  | { code: 'MissingAuthenticationToken'; message: string }
  | { code: 'IncompleteSignature'; message: string }
  | { code: 'InvalidClientTokenId'; message: string }
  | { code: 'SignatureDoesNotMatch'; message: string }
  | { code: 'RequestTimeTooSkewed'; message: string }
  | { code: 'RequestExpired'; message: string }
  | { code: 'InvalidSignatureException'; message: string };

export type SigV4Result = { ok: true; credential: Credential; body: Buffer } | { ok: false; failure: SigV4Failure };

/** What the signature covers and claims, from the Authorization header or from a presigned URL's query. */
interface SignatureFields {
  accessKeyId: string;
  scope: { date: string; region: string; service: string };
  signedHeaders: string;
  signature: string;
  /** X-Amz-Date as written (the string to sign repeats it). */
  amzDate: string;
  requestTime: Date;
  /** A presigned URL's X-Amz-Expires in ms; undefined for the header form. */
  expiresMs: number | undefined;
  canonicalQuery: string;
}

const AUTHORIZATION = /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const PRESIGNED_PARAMETERS = ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;

function parseAmzDate(text: string): Date | null {
  const match = AMZ_DATE.exec(text);
  if (!match) return null;
  const [, y, mo, d, h, mi, s] = match.map(Number) as number[];
  return new Date(Date.UTC(y as number, (mo as number) - 1, d, h, mi, s));
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

const failure = (code: SigV4Failure['code'], message: string): SigV4Failure => ({ code, message }) as SigV4Failure;
const fail = (code: SigV4Failure['code'], message: string): SigV4Result => ({ ok: false, failure: failure(code, message) });

/** `KEY/DATE/REGION/SERVICE/aws4_request`, or null when it is not that. */
function parseCredential(text: string): Pick<SignatureFields, 'accessKeyId' | 'scope'> | null {
  const [accessKeyId, date, region, service, terminal, ...rest] = text.split('/');
  if (!accessKeyId || !date || !region || !service || terminal !== 'aws4_request' || rest.length > 0) return null;
  return { accessKeyId, scope: { date, region, service } };
}

function headerFields(request: SignedRequest, authorization: string, parameters: Array<[string, string]>): SignatureFields | SigV4Failure {
  const match = AUTHORIZATION.exec(authorization);
  if (!match) return failure('IncompleteSignature', `Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters with algorithm AWS4-HMAC-SHA256. Authorization=${authorization.split(/\s/)[0]}`);
  const [, credentialText, signedHeaders, signature] = match as unknown as [string, string, string, string];
  const credential = parseCredential(credentialText);
  if (!credential) return failure('IncompleteSignature', `Credential should be scoped to a valid region, not '${credentialText.split('/')[2] ?? ''}'.`);
  const amzDate = headerValue(request.headers, 'x-amz-date') ?? '';
  const dateHeader = headerValue(request.headers, 'date');
  const requestTime = parseAmzDate(amzDate) ?? (dateHeader ? new Date(dateHeader) : null);
  if (!requestTime || Number.isNaN(requestTime.getTime())) return failure('IncompleteSignature', "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  return { ...credential, signedHeaders, signature, amzDate: amzDate || compactTime(requestTime), requestTime, expiresMs: undefined, canonicalQuery: canonicalQuery(parameters) };
}

/** A presigned URL: the signature and its parameters in the query (X-Amz-Algorithm, -Credential, -Date, -Expires, -SignedHeaders, -Signature). */
function queryFields(parameters: Array<[string, string]>): SignatureFields | SigV4Failure {
  const get = (name: string) => parameters.find(([key]) => key === name)?.[1];
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== ALGORITHM) return failure('IncompleteSignature', `X-Amz-Algorithm only supports '${ALGORITHM}', not '${algorithm}'.`);
  if (PRESIGNED_PARAMETERS.some((name) => !get(name))) {
    return failure('IncompleteSignature', `AWS query-string parameters must include 'X-Amz-Algorithm', ${PRESIGNED_PARAMETERS.map((name) => `'${name}'`).join(', ')}. Re-examine the query-string parameters.`);
  }
  const credentialText = get('X-Amz-Credential') as string;
  const credential = parseCredential(credentialText);
  if (!credential) return failure('IncompleteSignature', `X-Amz-Credential should be scoped to a valid region, not '${credentialText.split('/')[2] ?? ''}'.`);
  const amzDate = get('X-Amz-Date') as string;
  const requestTime = parseAmzDate(amzDate);
  if (!requestTime) return failure('IncompleteSignature', `X-Amz-Date must be in the ISO8601 basic format (yyyyMMddTHHmmssZ), not '${amzDate}'.`);
  const expires = Number(get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGNED_EXPIRY_SECONDS) {
    return failure('IncompleteSignature', `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGNED_EXPIRY_SECONDS} (seven days).`);
  }
  const signature = get('X-Amz-Signature') as string;
  if (!/^[0-9a-f]{64}$/.test(signature)) return failure('IncompleteSignature', 'X-Amz-Signature must be 64 lower-case hexadecimal digits.');
  return {
    ...credential,
    signedHeaders: get('X-Amz-SignedHeaders') as string,
    signature,
    amzDate,
    requestTime,
    expiresMs: expires * 1000,
    canonicalQuery: canonicalQuery(parameters, 'X-Amz-Signature'),
  };
}

/** Why the request time is not acceptable now, or undefined when it is. */
function timeFailure(fields: SignatureFields, now: Date): SigV4Failure | undefined {
  if (fields.expiresMs === undefined) {
    const skew = skewMessage(fields.requestTime, now);
    return skew ? failure('RequestTimeTooSkewed', skew) : undefined;
  }
  // A presigned URL may be used from its X-Amz-Date (give or take the clock skew) until X-Amz-Expires seconds later.
  if (fields.requestTime.getTime() > now.getTime() + MAX_CLOCK_SKEW_MS) return failure('RequestTimeTooSkewed', skewMessage(fields.requestTime, now) as string);
  const expiry = new Date(fields.requestTime.getTime() + fields.expiresMs);
  if (now > expiry) return failure('RequestExpired', `Request has expired: signed at ${fields.amzDate} for ${fields.expiresMs / 1000} seconds, it expired at ${compactTime(expiry)} (now ${compactTime(now)}).`);
  return undefined;
}

/**
 * Checks AWS Signature Version 4, in the Authorization header or in a presigned URL's query, against the gateway's
 * credentials: the scope's region and service must be this gateway's and `ses`; the request time within 15 minutes
 * (a presigned URL: not yet expired); and the signature unused so far, in any process of the node (the replay guard).
 */
export class SigV4Verifier {
  private readonly signingKeys = new SigningKeys();

  constructor(
    private readonly store: ControlStore,
    private readonly box: SecretBox,
    private readonly region: string,
    private readonly replays: ReplayGuard,
  ) {}

  async verify(request: SignedRequest, now = new Date()): Promise<SigV4Result> {
    const question = request.url.indexOf('?');
    const path = question === -1 ? request.url : request.url.slice(0, question);
    const parameters = question === -1 ? [] : queryParameters(request.url.slice(question + 1));
    const authorization = headerValue(request.headers, 'authorization');
    let fields: SignatureFields | SigV4Failure;
    if (authorization) fields = headerFields(request, authorization, parameters);
    else if (parameters.some(([key]) => key === 'X-Amz-Algorithm')) fields = queryFields(parameters);
    else return fail('MissingAuthenticationToken', 'Request is missing Authentication Token');
    if ('code' in fields) return { ok: false, failure: fields };
    const { scope } = fields;

    const credential = await this.store.credentials.get(fields.accessKeyId);
    if (!credential || credential.revokedAt) return fail('InvalidClientTokenId', 'The security token included in the request is invalid.');
    if (scope.service !== 'ses') return fail('SignatureDoesNotMatch', `Credential should be scoped to correct service: 'ses'.`);
    if (scope.region !== this.region) return fail('SignatureDoesNotMatch', `Credential should be scoped to a valid region, not '${scope.region}'.`);
    const late = timeFailure(fields, now);
    if (late) return { ok: false, failure: late };
    const sealedSecret = credential.sealedSecret;
    const key = sealedSecret ? this.signingKeys.get({ accessKeyId: credential.accessKeyId, sealedSecret }, scope, () => this.box.open(sealedSecret, credential.accessKeyId)) : null;
    if (!key) return fail('InvalidClientTokenId', 'The security token included in the request is invalid: this credential was imported with its SMTP password only; import it with --secret-access-key to use the HTTP API.');

    const signedHeaders = fields.signedHeaders.split(';');
    // SigV4 lists them sorted and once each; a repeated name made the canonical headers repeat its value (2,700
    // repeats of a 10 KB header: 6 s per request, before the signature is checked).
    if (!signedHeaders.every((name, index) => index === 0 || signedHeaders[index - 1]! < name)) {
      return fail('SignatureDoesNotMatch', 'SignedHeaders must list the signed header names in sorted order, each once.');
    }
    if (!signedHeaders.includes('host')) return fail('SignatureDoesNotMatch', "'Host' must be a signed header.");
    const body = await request.body();
    const canonicalRequest = `${request.method}\n${canonicalPath(path)}\n${fields.canonicalQuery}\n${canonicalHeaders(request.headers, signedHeaders)}\n${fields.signedHeaders}\n${sha256Hex(body)}`;
    const stringToSign = `${ALGORITHM}\n${fields.amzDate}\n${scope.date}/${scope.region}/${scope.service}/aws4_request\n${sha256Hex(canonicalRequest)}`;
    if (!timingSafeEqual(hmac(key, stringToSign), Buffer.from(fields.signature, 'hex'))) {
      return fail('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.');
    }
    const validUntil = fields.requestTime.getTime() + (fields.expiresMs ?? MAX_CLOCK_SKEW_MS);
    if (!(await this.replays.firstUse(fields.signature, validUntil, now.getTime()))) return fail('InvalidSignatureException', 'Signature has already been used: a request cannot be sent twice.');
    return { ok: true, credential, body };
  }
}
