import { join } from 'node:path';
import type { ReplayGuard } from './replay-guard.js';
import { SqliteReplayGuard } from './sqlite-replay-guard.js';

/** The node's replay guard, in <dataDir>/replay-guard.db next to queue.db, shared by every process that serves the HTTP API. */
export function openReplayGuard(dataDir: string): ReplayGuard {
  return new SqliteReplayGuard(join(dataDir, 'replay-guard.db'));
}
