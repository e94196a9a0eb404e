import { randomUUID } from 'node:crypto';

/**
 * A message id in SES's shape, `<16 hex>-<uuid>-000000`: the first group is a version prefix and
 * the acceptance time in milliseconds, so ids sort by time.
 */
export function generateMessageId(now: number = Date.now()): string {
  return `0100${now.toString(16).padStart(12, '0')}-${randomUUID()}-000000`;
}

export const MESSAGE_ID_PATTERN = /^[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000$/;
