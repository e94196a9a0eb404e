import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeadLetterFolder } from '../../../src/feedback/intake/dead-letter-folder.js';
import { tempDir } from '../../support/gateway-process.js';

const T0 = Date.parse('2026-12-07T04:00:00.000Z');
const info = (receivedAt: number) => ({ reason: 'not a report', mailFrom: 'mx@example.net', recipients: ['b-1-x@feedback.test'], remoteAddress: '192.0.2.7', receivedAt });
/** Preamble (about 200 bytes) plus this body: each letter is a little over 1,200 bytes. */
const body = (tag: string) => Buffer.from(`Subject: ${tag}\r\n\r\n${'x'.repeat(1000)}\r\n`);

test('the folder is kept within its size: the oldest letters are removed, the new one always kept', async () => {
  const directory = join(tempDir(), 'dead-letter');
  const folder = new DeadLetterFolder(directory, 5000);
  const kept: string[] = [];
  for (let index = 0; index < 4; index++) {
    const letter = await folder.keep(body(`letter ${index}`), info(T0 + index));
    assert.deepEqual(letter.removed, []);
    kept.push(letter.file);
  }
  const fifth = await folder.keep(body('letter 4'), info(T0 + 4));
  assert.deepEqual(fifth.removed, [kept[0]]);
  assert.deepEqual(readdirSync(directory).sort(), [...kept.slice(1), fifth.file]);
  assert.match(readFileSync(join(directory, fifth.file), 'latin1'), /^X-Relaygate-Dead-Letter: not a report\r\n[^]*\r\nSubject: letter 4\r\n/);

  const huge = await folder.keep(Buffer.alloc(6000, 'y'), info(T0 + 5));
  assert.deepEqual(huge.removed, [...kept.slice(1), fifth.file], 'a letter larger than the folder: every older one goes, it stays');
  assert.deepEqual(readdirSync(directory), [huge.file]);
});

test('letters from before a restart count, oldest first; files the gateway did not name are left alone', async () => {
  const directory = join(tempDir(), 'dead-letter');
  mkdirSync(directory, { mode: 0o700 });
  writeFileSync(join(directory, '20261201T000000000Z-aaaaaaaaaaaa.eml'), Buffer.alloc(3000));
  writeFileSync(join(directory, '20261130T000000000Z-bbbbbbbbbbbb.eml'), Buffer.alloc(1000));
  writeFileSync(join(directory, 'operator-notes.txt'), Buffer.alloc(10_000));
  const folder = new DeadLetterFolder(directory, 5000);
  const letter = await folder.keep(body('after restart'), info(T0));
  assert.deepEqual(letter.removed, ['20261130T000000000Z-bbbbbbbbbbbb.eml']);
  assert.deepEqual(readdirSync(directory).sort(), ['20261201T000000000Z-aaaaaaaaaaaa.eml', letter.file, 'operator-notes.txt'].sort());
});

test('letters kept at the same time are all counted once', async () => {
  const directory = join(tempDir(), 'dead-letter');
  const folder = new DeadLetterFolder(directory, 6500);
  const letters = await Promise.all(Array.from({ length: 10 }, (_, index) => folder.keep(body(`burst ${index}`), info(T0 + index))));
  const removed = letters.flatMap((letter) => letter.removed);
  assert.equal(new Set(removed).size, removed.length, 'none removed twice');
  assert.equal(readdirSync(directory).length, 10 - removed.length);
  assert.equal(readdirSync(directory).length, 5, 'five letters of about 1,230 bytes fit in 6,500');
});

test('a letter that cannot be removed leaves the folder over its size, and the new letter is kept all the same', async () => {
  const directory = join(tempDir(), 'dead-letter');
  // A directory named as a letter: unlink fails on it (EISDIR), as it would on a file the gateway may not remove.
  mkdirSync(join(directory, '20261130T000000000Z-bbbbbbbbbbbb.eml'), { recursive: true, mode: 0o700 });
  const folder = new DeadLetterFolder(directory, 5000);
  const first = await folder.keep(body('first'), info(T0));
  assert.deepEqual(first.removed, []);
  const second = await folder.keep(body('second'), info(T0 + 1));
  assert.deepEqual(second.removed, []);
  assert.deepEqual(readdirSync(directory).sort(), ['20261130T000000000Z-bbbbbbbbbbbb.eml', first.file, second.file].sort());
});
