import type Database from 'better-sqlite3';
import { openSqlite, type SqliteDatabase } from '../store/sqlite/database.js';
import type { ReplayGuard } from './replay-guard.js';

/**
 * One B-tree keyed by expiry first: a replayed request carries the same signed date, so it looks up the same key, and
 * pruning deletes a leading range of the key without a second index to keep up to date.
 */
const REPLAY_MIGRATIONS: readonly string[] = [
  `CREATE TABLE seen_signatures (
     valid_until INTEGER NOT NULL,
     signature BLOB NOT NULL,
     PRIMARY KEY (valid_until, signature)
   ) WITHOUT ROWID;`,
];

/** Expired entries are deleted at most this often (per process). */
const PRUNE_INTERVAL_MS = 60_000;

interface Claim {
  signature: Buffer;
  validUntil: number;
  now: number;
  resolve: (first: boolean) => void;
  reject: (error: unknown) => void;
}

/**
 * The replay guard on a SQLite file (`<dataDir>/replay-guard.db`), shared by every process of the node: a signature is
 * new exactly when its row could be inserted, and SQLite lets one writer at a time do that, so two processes handed
 * the same request cannot both accept it. The signatures asked about during one turn of the event loop are claimed in
 * one transaction (as the queue commits messages in groups): one write per burst of requests, not one per request.
 * Entries live until the signature could no longer be accepted anyway (15 minutes after its X-Amz-Date, or a presigned
 * URL's expiry) and are then pruned. synchronous=NORMAL: a power cut may forget the last few signatures, which a
 * request still has to be inside its 15-minute window to use.
 */
export class SqliteReplayGuard implements ReplayGuard {
  readonly #db: SqliteDatabase;
  readonly #claimAll: Database.Transaction<(claims: Claim[]) => boolean[]>;
  readonly #prune: Database.Statement<[number]>;
  #pending: Claim[] = [];
  #prunedAt = 0;

  constructor(path: string) {
    this.#db = openSqlite(path, { migrations: REPLAY_MIGRATIONS, synchronous: 'NORMAL' });
    const insert = this.#db.prepare<[number, Buffer]>('INSERT OR IGNORE INTO seen_signatures (valid_until, signature) VALUES (?, ?)');
    this.#prune = this.#db.prepare('DELETE FROM seen_signatures WHERE valid_until < ?');
    this.#claimAll = this.#db.transaction((claims: Claim[]) => claims.map((claim) => insert.run(claim.validUntil, claim.signature).changes === 1));
  }

  firstUse(signature: string, validUntil: number, now: number): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ signature: Buffer.from(signature, 'hex'), validUntil, now, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    const claims = this.#pending;
    if (claims.length === 0) return;
    this.#pending = [];
    try {
      const now = claims[claims.length - 1]!.now;
      if (now - this.#prunedAt >= PRUNE_INTERVAL_MS) {
        this.#prunedAt = now;
        this.#prune.run(now);
      }
      const results = this.#claimAll.immediate(claims);
      claims.forEach((claim, index) => claim.resolve(results[index] as boolean));
    } catch (error) {
      for (const claim of claims) claim.reject(error);
    }
  }

  close(): void {
    this.#flush();
    this.#db.close();
  }
}
