import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

const bytes = (data: string | ArrayBuffer | ArrayBufferView) =>
  typeof data === 'string' ? data : data instanceof ArrayBuffer ? Buffer.from(data) : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** The SHA-256 the AWS SDK's signer expects (its Checksum interface), from node:crypto. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return this.hash.digest();
  }
  reset(): void {}
}

const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export interface PresignOptions {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  region: string;
  method?: string;
  /** The path, e.g. /v2/email/account. */
  path: string;
  query?: Record<string, string>;
  expiresIn: number;
  signingDate?: Date;
}

type Credentials = PresignOptions['credentials'];

/** The AWS SDK's own signer (@smithy/signature-v4) for the service `ses`. */
const sdkSigner = (credentials: Credentials, region: string) => new SignatureV4({ credentials, region, service: 'ses', sha256: Sha256, uriEscapePath: true });

/** A URL presigned by the AWS SDK's own signer (its presign). */
export async function presignUrl(options: PresignOptions): Promise<string> {
  const url = new URL(options.endpoint);
  const signer = sdkSigner(options.credentials, options.region);
  const signed = await signer.presign(
    { method: options.method ?? 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: options.path, query: { ...options.query }, headers: { host: url.host } },
    { expiresIn: options.expiresIn, ...(options.signingDate ? { signingDate: options.signingDate } : {}) },
  );
  const query = Object.entries(signed.query ?? {})
    .map(([key, value]) => `${encode(key)}=${encode(String(value))}`)
    .join('&');
  return `${url.protocol}//${url.host}${signed.path}?${query}`;
}

/**
 * Signs POST requests to `endpoint` with the AWS SDK's own signer, as the SDK would send them: the headers to send
 * (Host, the given ones, X-Amz-Date, X-Amz-Content-Sha256, Authorization), without the rest of the SDK's client.
 */
export function postSigner(endpoint: string, credentials: Credentials, region: string): (path: string, headers: Record<string, string>, body: string) => Promise<Record<string, string>> {
  const url = new URL(endpoint);
  const signer = sdkSigner(credentials, region);
  return async (path, headers, body) => {
    const signed = await signer.sign({ method: 'POST', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path, query: {}, headers: { host: url.host, ...headers }, body });
    return signed.headers;
  };
}
