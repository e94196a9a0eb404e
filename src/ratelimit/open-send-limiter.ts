import { join } from 'node:path';
import { SqliteSendLimiter } from './sqlite-send-limiter.js';
import type { SendLimiter } from './send-limiter.js';

/** The node's send-rate and quota counters, in <dataDir>/limits.db (shared by the gateway and `relaygate quota`). */
export function openSendLimiter(dataDir: string): SendLimiter {
  return new SqliteSendLimiter(join(dataDir, 'limits.db'));
}
