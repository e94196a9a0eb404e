import { existsSync, watch } from 'node:fs';
import { join } from 'node:path';
import { writePrivateFile } from '../common/private-files.js';

const WAKEUP_FILE = 'queue.wakeup';

/**
 * Tells a running gateway that the queue changed under it (an operator's `queue retry` or `release` from another
 * process): writing the file wakes the delivery engine's watcher, so the change takes effect at once instead of at
 * the engine's next timer. Returns false when the file cannot be written (another user's data directory): the change
 * still stands, it only waits for that timer.
 */
export function touchQueueWakeup(dataDir: string): boolean {
  try {
    writePrivateFile(join(dataDir, WAKEUP_FILE), `${Date.now()}\n`);
    return true;
  } catch {
    return false;
  }
}

/** Calls `onWake` whenever the wakeup file is written; returns the function that stops watching. */
export function watchQueueWakeup(dataDir: string, onWake: () => void): () => void {
  const path = join(dataDir, WAKEUP_FILE);
  if (!touchQueueWakeup(dataDir) && !existsSync(path)) throw new Error(`cannot create ${path}`);
  const watcher = watch(path, { persistent: false }, () => onWake());
  watcher.on('error', () => undefined);
  return () => watcher.close();
}
