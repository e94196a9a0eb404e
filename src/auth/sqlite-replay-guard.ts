import type Database from 'better-sqlite3';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/database.js';
import type { ReplayGuard } from './replay-guard.js';

// WITHOUT ROWID: looked up by the signature alone; the index serves the pruning.
const REPLAY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE seen_signatures (
     signature TEXT PRIMARY KEY,
     valid_until INTEGER NOT NULL
   ) WITHOUT ROWID;
   CREATE INDEX seen_signatures_by_expiry ON seen_signatures (valid_until);`,
];

/** Expired entries are deleted at most this often (per process). */
const PRUNE_INTERVAL_MS = 60_000;

/**
 * The replay guard on a SQLite file (`<dataDir>/replay-guard.db`), shared by every process of the node: the check and
 * the insert are one statement, so two processes handed the same request at once cannot both accept it. Entries
 * live until the signature could no longer be accepted anyway (15 minutes after its X-Amz-Date, or a presigned URL's
 * expiry) and are then pruned. synchronous=NORMAL: a power cut may forget the last few signatures, but so would a
 * restart of a memory-only guard, and a request still has to fall inside the 15-minute window.
 */
export class SqliteReplayGuard implements ReplayGuard {
  readonly #db: SqliteDatabase;
  readonly #claim: Database.Statement<[{ signature: string; validUntil: number; now: number }]>;
  readonly #prune: Database.Statement<[number]>;
  #prunedAt = 0;

  constructor(path: string) {
    this.#db = openSqlite(path, { migrations: REPLAY_MIGRATIONS, synchronous: 'NORMAL' });
    // A row that expired counts as unseen: the upsert takes it over, so the statement changes one row exactly when the signature is new.
    this.#claim = this.#db.prepare(
      `INSERT INTO seen_signatures (signature, valid_until) VALUES (@signature, @validUntil)
       ON CONFLICT (signature) DO UPDATE SET valid_until = excluded.valid_until WHERE seen_signatures.valid_until < @now`,
    );
    this.#prune = this.#db.prepare('DELETE FROM seen_signatures WHERE valid_until < ?');
  }

  async firstUse(signature: string, validUntil: number, now: number): Promise<boolean> {
    if (now - this.#prunedAt >= PRUNE_INTERVAL_MS) {
      this.#prunedAt = now;
      this.#prune.run(now);
    }
    return this.#claim.run({ signature, validUntil, now }).changes === 1;
  }

  close(): void {
    this.#db.close();
  }
}
