import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteQueueStore } from '../../../src/queue/sqlite-queue-store.js';
import { queuedMessage } from './queued-message-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'relaygate-page-size-'));
after(() => rmSync(root, { recursive: true, force: true }));

const pageSizeOf = (dataDir: string): number => {
  const db = new Database(join(dataDir, 'queue.db'), { readonly: true });
  try {
    return db.pragma('page_size', { simple: true }) as number;
  } finally {
    db.close();
  }
};

/** Stores a message with a 100 KB inline body and reads it back. */
async function roundTrip(dataDir: string, id: string): Promise<void> {
  const queue = SqliteQueueStore.open(dataDir);
  try {
    const body = Buffer.alloc(100 * 1024, 'line of a large body\r\n');
    await queue.insert([{ ...queuedMessage(id, ['to@example.org']), body, size: 100 * 1024 + 30 }]);
    assert.deepEqual(queue.get(id)?.body, body);
  } finally {
    queue.close();
  }
}

test('a new queue.db has 16 KiB pages, and a 100 KB body stored in its row reads back byte for byte', async () => {
  const dataDir = join(root, 'new');
  await roundTrip(dataDir, 'first');
  assert.equal(pageSizeOf(dataDir), 16 * 1024);
  // Opened again, the file keeps its pages.
  await roundTrip(dataDir, 'second');
  assert.equal(pageSizeOf(dataDir), 16 * 1024);
});

test('a queue.db made with 4 KiB pages keeps them and is used as it is', async () => {
  const dataDir = join(root, 'old');
  mkdirSync(dataDir);
  const old = new Database(join(dataDir, 'queue.db'));
  old.pragma('page_size = 4096');
  old.pragma('journal_mode = WAL');
  old.close();
  await roundTrip(dataDir, 'first');
  assert.equal(pageSizeOf(dataDir), 4096);
});
