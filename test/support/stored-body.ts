import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A queued message's body as stored: inline in its row, or in its spool file. */
export function storedBody(dataDir: string, message: { body: Buffer | null; bodyFile: string }): string {
  return message.body ? message.body.toString('latin1') : readFileSync(join(dataDir, 'spool', message.bodyFile), 'latin1');
}
