/**
 * The suppression list's page token: the (update time, address) of the last entry returned, so pages stay stable
 * while entries are added. Both stores use it, so a token from one node is good on every other.
 */
/** Entries per page when the caller names no page size. */
export const DEFAULT_PAGE_SIZE = 1000;

export const encodePageToken = (lastUpdateTime: number, emailAddress: string): string => Buffer.from(JSON.stringify([lastUpdateTime, emailAddress])).toString('base64url');

export function decodePageToken(token: string): [number, string] {
  try {
    const [time, address] = JSON.parse(Buffer.from(token, 'base64url').toString()) as [unknown, unknown];
    if (typeof time === 'number' && typeof address === 'string') return [time, address];
  } catch {
    // fall through to the error below
  }
  throw new InvalidNextTokenError(token);
}

export class InvalidNextTokenError extends Error {
  constructor(token: string) {
    super(`invalid next token "${token}"`);
    this.name = 'InvalidNextTokenError';
  }
}
