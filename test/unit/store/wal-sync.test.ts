import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WalSync } from '../../../src/store/sqlite/wal-sync.js';
import { tempDir } from '../../support/gateway-process.js';

/** A datasync that finishes when the test says so, counting its calls. */
function heldDatasync() {
  const calls: Array<{ fd: number; finish: (error?: Error) => void }> = [];
  const datasync = (fd: number) => new Promise<void>((resolve, reject) => calls.push({ fd, finish: (error) => (error ? reject(error) : resolve()) }));
  return { calls, datasync };
}

const settled = async (promise: Promise<unknown>) => {
  let state = 'pending';
  promise.then(() => (state = 'resolved'), () => (state = 'rejected'));
  await new Promise((resolve) => setImmediate(resolve));
  return state;
};

function walFile(): string {
  const path = join(tempDir(), 'queue.db-wal');
  writeFileSync(path, 'frames');
  return path;
}

test('callers that arrive during an fdatasync wait for the next one, which they share', async () => {
  const held = heldDatasync();
  const wal = new WalSync(walFile(), held.datasync);
  const first = wal.sync();
  await settled(first);
  assert.equal(held.calls.length, 1);
  const during = [wal.sync(), wal.sync(), wal.sync()];
  held.calls[0]!.finish();
  assert.equal(await settled(first), 'resolved');
  // The first fdatasync may have begun before their commits: it does not answer them.
  assert.deepEqual(await Promise.all(during.map(settled)), ['pending', 'pending', 'pending']);
  assert.equal(held.calls.length, 2, 'one more fdatasync for the three of them');
  held.calls[1]!.finish();
  assert.deepEqual(await Promise.all(during.map(settled)), ['resolved', 'resolved', 'resolved']);
  assert.equal(held.calls[0]!.fd, held.calls[1]!.fd, 'one descriptor for the connection');
  wal.close();
});

test('a failed fdatasync fails the callers it was for, and the next call tries again', async () => {
  const held = heldDatasync();
  const wal = new WalSync(walFile(), held.datasync);
  const failing = wal.sync();
  await settled(failing);
  held.calls[0]!.finish(new Error('EIO: i/o error, fdatasync'));
  await assert.rejects(failing, { message: 'EIO: i/o error, fdatasync' });
  const next = wal.sync();
  await settled(next);
  held.calls[1]!.finish();
  await next;
  wal.close();
});

test('close waits for the fdatasync in progress; later calls are refused', async () => {
  const held = heldDatasync();
  const path = walFile();
  const wal = new WalSync(path, held.datasync);
  const inFlight = wal.sync();
  await settled(inFlight);
  wal.close();
  await assert.rejects(wal.sync(), { message: `${path} is closed` });
  held.calls[0]!.finish();
  await inFlight;
});

test('with the real fdatasync: a missing WAL file fails the call with the file system error', async () => {
  const wal = new WalSync(join(tempDir(), 'absent.db-wal'));
  await assert.rejects(wal.sync(), { code: 'ENOENT' });
  const present = new WalSync(walFile());
  await present.sync();
  present.close();
});
