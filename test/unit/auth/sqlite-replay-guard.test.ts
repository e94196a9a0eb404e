import test from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SqliteReplayGuard } from '../../../src/auth/sqlite-replay-guard.js';
import { tempDir } from '../../support/gateway-process.js';

const SIGNATURE = 'a'.repeat(64);
const NOW = Date.UTC(2026, 0, 1);

test('two guards on one file (two processes of a node) accept a signature once between them, until it expires', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'replay-guard.db');
  const first = new SqliteReplayGuard(path);
  const second = new SqliteReplayGuard(path);
  t.after(() => {
    first.close();
    second.close();
  });
  const validUntil = NOW + 15 * 60_000;
  assert.equal(await first.firstUse(SIGNATURE, validUntil, NOW), true);
  assert.equal(await second.firstUse(SIGNATURE, validUntil, NOW + 1000), false);
  assert.equal(await first.firstUse(SIGNATURE, validUntil, validUntil), false, 'still refused at the last moment it is valid');
  assert.equal(await second.firstUse('b'.repeat(64), validUntil, NOW), true, 'another signature is unaffected');
  // Asked in the same turn of the event loop (one transaction), the same signature still wins once.
  const together = await Promise.all([first.firstUse('c'.repeat(64), validUntil, NOW), first.firstUse('c'.repeat(64), validUntil, NOW), second.firstUse('c'.repeat(64), validUntil, NOW)]);
  assert.deepEqual(together.filter(Boolean), [true]);
  // Once expired the entry is pruned (the signature would be refused as too old anyway).
  assert.equal(await second.firstUse(SIGNATURE, validUntil, validUntil + 1), true);
});

test('expired entries are pruned, at most once a minute per guard', async (t) => {
  const dir = tempDir();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'replay-guard.db');
  const guard = new SqliteReplayGuard(path);
  const reader = new Database(path, { readonly: true });
  t.after(() => {
    reader.close();
    guard.close();
  });
  const count = () => reader.prepare('SELECT COUNT(*) FROM seen_signatures').pluck().get();
  for (let index = 0; index < 5; index++) await guard.firstUse(String(index).repeat(64), NOW + 1000, NOW);
  assert.equal(count(), 5);
  await guard.firstUse('f'.repeat(64), NOW + 120_000, NOW + 30_000);
  assert.equal(count(), 6, 'not pruned within the minute');
  await guard.firstUse('e'.repeat(64), NOW + 180_000, NOW + 61_000);
  assert.equal(count(), 2, 'the five expired entries are gone');
});
