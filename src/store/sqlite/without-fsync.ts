import type { SqliteDatabase } from './database.js';

interface SynchronousPragmas {
  normal: { run(): unknown };
  full: { run(): unknown };
}

// Prepared once per connection: db.pragma() would parse the statement again on every switch.
const pragmasOf = new WeakMap<SqliteDatabase, SynchronousPragmas>();

/**
 * Runs `write` with synchronous=NORMAL on a connection that is otherwise FULL: the commit is durable across a crash
 * of the process, and across a power cut only once the WAL is fsynced (by a later FULL commit, a checkpoint, or
 * WalSync off the event loop).
 */
export function withoutFsync<T>(db: SqliteDatabase, write: () => T): T {
  let pragmas = pragmasOf.get(db);
  if (!pragmas) {
    pragmas = { normal: db.prepare('PRAGMA synchronous = NORMAL'), full: db.prepare('PRAGMA synchronous = FULL') };
    pragmasOf.set(db, pragmas);
  }
  pragmas.normal.run();
  try {
    return write();
  } finally {
    pragmas.full.run();
  }
}
