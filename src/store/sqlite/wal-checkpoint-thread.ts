/**
 * The thread of a WalCheckpointer (wal-checkpointer.ts): its own connection to the database, on which it copies the
 * WAL's committed pages into the database file (PRAGMA wal_checkpoint(PASSIVE): it never waits for, nor blocks, the
 * writer or the readers), often while there is work, rarely while there is none.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import type { CheckpointThreadData, FromCheckpointThread } from './wal-checkpointer.js';

const { path, busyIntervalMs, idleIntervalMs } = workerData as CheckpointThreadData;
const report = (message: FromCheckpointThread) => parentPort?.postMessage(message);

let db: Database.Database | null = null;
let timer: NodeJS.Timeout | undefined;
let lastLog = -1;

function checkpoint(): void {
  try {
    db ??= new Database(path, { fileMustExist: true });
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
    // The WAL changed since the last look: the gateway is writing, so look again soon.
    const changed = result !== undefined && result.log !== lastLog;
    lastLog = result?.log ?? -1;
    timer = setTimeout(checkpoint, changed ? busyIntervalMs : idleIntervalMs);
  } catch (error) {
    db?.close();
    db = null;
    report({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  }
}

parentPort?.on('message', (message: 'stop') => {
  if (message !== 'stop') return;
  clearTimeout(timer);
  db?.close();
  db = null;
  parentPort?.close();
});
timer = setTimeout(checkpoint, busyIntervalMs);
