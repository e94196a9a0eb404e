import test, { after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Spool } from '../../../src/queue/spool.js';

const directory = mkdtempSync(join(tmpdir(), 'relaygate-spool-'));
after(() => rmSync(directory, { recursive: true, force: true }));
let spools = 0;
const freshSpool = () => new Spool(join(directory, `data-${++spools}`));

describe('Spool.discard', () => {
  test('while a write to the file is in flight: no error escapes, the file is gone', async () => {
    const spool = freshSpool();
    const file = spool.create('0100000000000000-write', new Date());
    await once(file.stream, 'ready');
    // Large enough that the write is still in the thread pool when discard destroys the stream.
    file.stream.write(Buffer.alloc(32 * 1024 * 1024));
    await spool.discard(file);
    // Before the fix the interrupted write's late ERR_STREAM_DESTROYED was emitted, with no listener, just before 'close'.
    if (!file.stream.closed) await once(file.stream, 'close');
    assert.deepEqual(await spool.listFiles(), []);
  });

  test('right after create, before the file is open: the file is not created after its removal', async () => {
    const spool = freshSpool();
    for (let index = 0; index < 300; index++) {
      const file = spool.create(`0100000000000000-${index}`, new Date());
      file.stream.write(Buffer.alloc(1000));
      await spool.discard(file);
    }
    assert.deepEqual(await spool.listFiles(), []);
  });

  test('a file whose writes failed can still be discarded', async () => {
    const spool = freshSpool();
    const file = spool.create('0100000000000000-failed', new Date());
    await once(file.stream, 'ready');
    file.stream.destroy(new Error('disk gone'));
    await spool.discard(file);
    assert.deepEqual(await spool.listFiles(), []);
  });
});
