/**
 * What a failed node:dns lookup says about the name. c-ares turns the DNS answer into an error code:
 *
 * - `ENOTFOUND`: the server answered NXDOMAIN, the name does not exist.
 * - `EBADNAME`: the name cannot exist in the DNS (empty label, over-long label…); c-ares sent no query.
 * - `ENODATA`: the name exists but has no record of the asked type (NOERROR with an empty answer).
 * - anything else means the answer is unknown and the lookup must be retried later: `ESERVFAIL`, `EREFUSED`,
 *   `ETIMEOUT`, `ECONNREFUSED` (nothing listens on the server's port), `EFORMERR`, `ENOTIMP`, `EBADRESP`,
 *   `ECANCELLED`, `EDESTRUCTION`, `EOF`, `ENOMEM`, and errors that are not from the resolver at all.
 */
export type LookupFailure = 'nxdomain' | 'nodata' | 'temporary';

export function classifyLookupFailure(error: unknown): LookupFailure {
  switch (errorCode(error)) {
    case 'ENOTFOUND':
    case 'EBADNAME':
      return 'nxdomain';
    case 'ENODATA':
      return 'nodata';
    default:
      return 'temporary';
  }
}

export function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'UNKNOWN';
}
