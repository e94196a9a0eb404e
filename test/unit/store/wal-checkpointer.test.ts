import test from 'node:test';
import assert from 'node:assert/strict';
import { statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { WalCheckpointer } from '../../../src/store/sqlite/wal-checkpointer.js';
import { capturingLogger } from '../../support/fault-watch.js';
import { tempDir } from '../../support/gateway-process.js';
import { waitUntil } from '../../support/wait-until.js';

const PAGE = 4096;

function walDatabase(): Database.Database {
  const db = new Database(join(tempDir(), 'queue.db'));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE bodies (body BLOB)');
  return db;
}

/** Writes `count` rows of 100 KB, one commit each: about 26 pages of WAL apiece. */
function writeBodies(db: Database.Database, count: number): void {
  const insert = db.prepare('INSERT INTO bodies (body) VALUES (?)');
  for (let i = 0; i < count; i++) insert.run(Buffer.alloc(100 * 1024, i));
}

test('the WAL is checkpointed by the thread, not in the commits: the database file receives the pages', async () => {
  const db = walDatabase();
  const { log, records } = capturingLogger();
  const checkpointer = new WalCheckpointer(db, log, { busyIntervalMs: 10, idleIntervalMs: 10 });
  try {
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0);
    const before = statSync(db.name).size;
    // 50 × 26 pages: SQLite's own checkpoint would have run in a commit after 1,000 pages.
    writeBodies(db, 50);
    await waitUntil(() => statSync(db.name).size >= before + 50 * 25 * PAGE, 'the bodies to reach the database file');
    assert.equal((db.prepare('SELECT COUNT(*) FROM bodies').pluck().get() as number), 50);
    assert.deepEqual(records, []);
  } finally {
    checkpointer.stop();
    db.close();
  }
});

test('the database checkpoints in its commits again when the thread fails, and says so', async () => {
  const db = walDatabase();
  // The thread opens the file by its name: gone, it cannot.
  unlinkSync(db.name);
  const { log, records } = capturingLogger();
  const checkpointer = new WalCheckpointer(db, log, { busyIntervalMs: 10, idleIntervalMs: 10 });
  try {
    await waitUntil(() => records.length > 0, 'the failure to be logged');
    assert.equal(records[0]!.msg, 'WAL checkpoint thread failed; the database checkpoints in its commits again');
    assert.equal(records[0]!.database, db.name);
    assert.match(records[0]!.problem as string, /unable to open database file/);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 1000);
  } finally {
    checkpointer.stop();
    db.close();
  }
});
