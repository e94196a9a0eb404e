import Database from 'better-sqlite3';
import { dirname } from 'node:path';
import { createPrivateFile, makePrivateDirectory } from '../../common/private-files.js';
import { fileSystemProblem, isFileSystemError } from '../../common/system-errors.js';

export type SqliteDatabase = Database.Database;

export interface SqliteFileOptions {
  /** The schema, one entry per version; PRAGMA user_version counts the applied ones. Append, never edit a released entry. */
  migrations: readonly string[];
  /** FULL (default) where a commit is a durability promise; NORMAL where losing the last commits to a power cut is harmless. */
  synchronous?: 'FULL' | 'NORMAL';
  /**
   * Bytes per page of a file this call creates (SQLite's default: 4096). A file that exists keeps the size it was made
   * with: SQLite cannot change the page size of a database in WAL mode.
   */
  pageSize?: number;
}

/** A database file relaygate cannot use (damaged, not a database, not accessible, too new): the message names the file and what to do. */
export class DatabaseFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseFileError';
  }
}

/**
 * Opens a SQLite file the way every relaygate store uses it (control.db, queue.db, limits.db): created 0600 in a
 * 0700 directory (SQLite gives the -wal and -shm files the database's mode); WAL so the CLI can read while the
 * gateway writes; a busy timeout so a second process waits instead of failing; temporary tables in memory (a file-backed
 * one costs an UPDATE … RETURNING, as the queue's claim is, 0.15 ms even when it changes one row); PRAGMA quick_check,
 * so a damaged file stops the start with one line instead of failing every query later; then the pending migrations.
 */
export function openSqlite(path: string, options: SqliteFileOptions): SqliteDatabase {
  let db: SqliteDatabase | undefined;
  try {
    makePrivateDirectory(dirname(path));
    createPrivateFile(path);
    db = new Database(path);
    // Before the switch to WAL, which writes the header of a new file; a no-op on a file that has one.
    if (options.pageSize !== undefined) db.pragma(`page_size = ${options.pageSize}`);
    switchToWal(db);
    db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    db.pragma('temp_store = MEMORY');
    checkIntegrity(db, path);
    migrate(db, options.migrations);
    return db;
  } catch (error) {
    db?.close();
    throw openFailure(path, error);
  }
}

/** How long opening waits for other processes opening the same new file (see switchToWal). */
const WAL_SWITCH_TIMEOUT_MS = 5000;
const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Sets journal_mode=WAL. A new file is switched by the first connection that gets an exclusive lock, and SQLite does
 * not call the busy handler for that lock: session workers opening replay-guard.db at the same moment got
 * SQLITE_BUSY ("database is locked") about once in a hundred starts. Retried for up to 5 s, as the busy timeout would.
 */
function switchToWal(db: SqliteDatabase): void {
  const deadline = Date.now() + WAL_SWITCH_TIMEOUT_MS;
  for (let delayMs = 1; ; delayMs = Math.min(delayMs * 2, 100)) {
    try {
      db.pragma('journal_mode = WAL');
      return;
    } catch (error) {
      if (!(error instanceof Database.SqliteError && error.code === 'SQLITE_BUSY') || Date.now() >= deadline) throw error;
      sleepSync(delayMs);
    }
  }
}

/** Applies the migrations the file has not seen yet; PRAGMA user_version counts the applied ones. */
function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  // Read inside the write transaction: processes opening the file at once (session workers) apply each migration once.
  db.transaction(() => {
    const applied = db.pragma('user_version', { simple: true }) as number;
    if (applied > migrations.length) {
      throw new DatabaseFileError(`${db.name} was written by a newer relaygate (schema ${applied}, this version knows ${migrations.length}); run that version or restore a backup`);
    }
    for (let version = applied; version < migrations.length; version++) db.exec(migrations[version] as string);
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
}

const damaged = (path: string, problem: string) => new DatabaseFileError(`${path} is damaged (${problem}); restore it from a backup or move it aside`);

function checkIntegrity(db: SqliteDatabase, path: string): void {
  const rows = db.pragma('quick_check', { simple: false }) as Array<{ quick_check: string }>;
  if (rows.length === 1 && rows[0]!.quick_check === 'ok') return;
  // Rows may hold several lines, under a "*** in database main ***" heading: one problem per line.
  const problems = rows.flatMap((row) => row.quick_check.split('\n')).filter((line) => !/^\*\*\* in database/.test(line));
  const more = problems.length > 1 ? `, and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''}` : '';
  throw damaged(path, `quick_check: ${problems[0] ?? 'no result'}${more}`);
}

/** What went wrong opening `path`, for an operator; errors that are not about the file go on unchanged. */
function openFailure(path: string, error: unknown): unknown {
  if (error instanceof DatabaseFileError) return error;
  const access = '; the data directory and its files must be writable by the user relaygate runs as';
  if (isFileSystemError(error)) return new DatabaseFileError(`${fileSystemProblem(error)}${access}`);
  if (!(error instanceof Database.SqliteError)) return error;
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(error.code)) return damaged(path, error.message);
  if (/^SQLITE_(CANTOPEN|READONLY|PERM|AUTH|IOERR)/.test(error.code)) return new DatabaseFileError(`cannot open ${path}: ${error.message}${access}`);
  return error;
}

const statements = new WeakMap<SqliteDatabase, Map<string, Database.Statement>>();

/** A prepared statement, compiled once per database connection: preparing costs more than running a small query. */
export function prepared(db: SqliteDatabase, sql: string): Database.Statement {
  let cache = statements.get(db);
  if (!cache) statements.set(db, (cache = new Map()));
  let statement = cache.get(sql);
  if (!statement) cache.set(sql, (statement = db.prepare(sql)));
  return statement;
}
