/** The pieces of SigV4's canonical request that depend on how the request was written (path, query, headers). */
import { createHash, createHmac } from 'node:crypto';

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
export const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as SigV4 wants it: everything but unreserved characters. */
const uriEncode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

export function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, '%20'));
  } catch {
    return text;
  }
}

/** Non-S3 services sign the path as sent, each segment encoded once more (botocore and the JS SDK both do). */
export function canonicalPath(path: string): string {
  return (path || '/').split('/').map(uriEncode).join('/');
}

/** The query's parameters, decoded, in the order sent. */
export function queryParameters(query: string): Array<[string, string]> {
  if (!query) return [];
  return query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const equals = pair.indexOf('=');
      return equals === -1 ? [safeDecode(pair), ''] : [safeDecode(pair.slice(0, equals)), safeDecode(pair.slice(equals + 1))];
    });
}

/** Parameters sorted by encoded name, then value, each encoded once; `leaveOut` names one that is not signed (a presigned URL's X-Amz-Signature). */
export function canonicalQuery(parameters: ReadonlyArray<readonly [string, string]>, leaveOut?: string): string {
  return parameters
    .filter(([key]) => key !== leaveOut)
    .map(([key, value]) => [uriEncode(key), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

export function headerValue(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

export function canonicalHeaders(headers: Record<string, string | string[] | undefined>, signedHeaders: readonly string[]): string {
  return signedHeaders.map((name) => `${name}:${(headerValue(headers, name) ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
}

/** The key of one day, region and service, derived from the secret access key (four HMACs). */
export function deriveSigningKey(secret: string, date: string, region: string, service: string): Buffer {
  let key = hmac(`AWS4${secret}`, date);
  for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
  return key;
}
