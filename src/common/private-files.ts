import { chmodSync, closeSync, existsSync, fchmodSync, fsyncSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/**
 * Modes of what relaygate creates in its data directory, whatever the umask: control.db holds DKIM private keys and
 * password hashes, the queue and spool hold mail. Only the user the gateway runs as may read them.
 */
export const PRIVATE_DIRECTORY_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/**
 * Creates `path` and its missing parents with mode 0700, each made durable in its parent (a new directory's name is
 * only on disk once the parent is fsynced). Returns whether it created anything.
 */
export function makePrivateDirectory(path: string): boolean {
  const missing: string[] = [];
  for (let current = resolve(path); !existsSync(current); current = dirname(current)) missing.unshift(current);
  for (const directory of missing) {
    try {
      mkdirSync(directory, { mode: PRIVATE_DIRECTORY_MODE });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw error;
    }
    chmodSync(directory, PRIVATE_DIRECTORY_MODE);
    syncDirectory(dirname(directory));
  }
  return missing.length > 0;
}

/** Creates an empty file with mode 0600 unless it exists (a file that exists keeps its mode). */
export function createPrivateFile(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', PRIVATE_FILE_MODE);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw error;
  }
  try {
    fchmodSync(fd, PRIVATE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/** writeFileSync for a file of the data directory: created with mode 0600. */
export function writePrivateFile(path: string, data: string | Uint8Array): void {
  createPrivateFile(path);
  writeFileSync(path, data);
}

/** Those of `paths` that other users (neither owner nor group) may read or enter, with their modes, e.g. "/data/control.db 644". */
export function openToOthers(paths: readonly string[]): string[] {
  return paths.flatMap((path) => {
    const mode = statSync(path, { throwIfNoEntry: false })?.mode;
    return mode !== undefined && (mode & 0o007) !== 0 ? [`${path} ${(mode & 0o777).toString(8)}`] : [];
  });
}

function syncDirectory(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    // A parent this user may not read (a 0711 directory above the data directory): its entry cannot be synced from here.
    if ((error as NodeJS.ErrnoException).code === 'EACCES') return;
    throw error;
  }
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
