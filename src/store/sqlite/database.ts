import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type SqliteDatabase = Database.Database;

/**
 * Opens a SQLite file the way every relaygate store uses it: WAL so the CLI can read while the
 * gateway writes, synchronous=FULL because a commit is a durability promise, and a busy timeout
 * so a second process waits instead of failing.
 */
export function openSqlite(path: string): SqliteDatabase {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}

/** Applies the migrations the file has not seen yet; PRAGMA user_version counts the applied ones. */
export function migrate(db: SqliteDatabase, migrations: readonly string[]): void {
  const applied = db.pragma('user_version', { simple: true }) as number;
  if (applied > migrations.length) {
    throw new Error(`${db.name} was written by a newer relaygate (schema ${applied}, this version knows ${migrations.length})`);
  }
  db.transaction(() => {
    for (let version = applied; version < migrations.length; version++) db.exec(migrations[version] as string);
    db.pragma(`user_version = ${migrations.length}`);
  }).immediate();
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
