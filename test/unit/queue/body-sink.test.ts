import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BodySink, INLINE_BODY_LIMIT } from '../../../src/queue/body-sink.js';
import { Spool, type SpoolFile } from '../../../src/queue/spool.js';

const dataDir = mkdtempSync(join(tmpdir(), 'relaygate-body-sink-'));
after(() => rmSync(dataDir, { recursive: true, force: true }));

/** A spool whose body files fail their `failingWrite`th write to the disk with ENOSPC, as a full disk would. */
function spoolWithFullDisk(failingWrite: number): Spool {
  const spool = new Spool(dataDir);
  spool.create = (messageId): SpoolFile => {
    let writes = 0;
    const failing = {
      ...fs,
      write: (...args: unknown[]) => {
        const callback = args.at(-1) as (error: Error | null) => void;
        if (++writes === failingWrite) return setTimeout(() => callback(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' })), 5);
        return (fs.write as (...args: unknown[]) => void)(...args);
      },
    };
    const path = join(dataDir, messageId);
    const stream = fs.createWriteStream(path, { flags: 'wx', flush: true, fs: failing });
    stream.on('error', () => undefined);
    return { name: messageId, path, directory: dataDir, stream };
  };
  return spool;
}

const overInlineLimit = Buffer.alloc(INLINE_BODY_LIMIT + 2048, 'a');

describe('a body file the disk cannot take', () => {
  test('a write that fails after write() said yes fails the next write: the sink errors, no write waits for ever', async () => {
    const sink = new BodySink(spoolWithFullDisk(2), 'next-write', new Date());
    const failed = once(sink, 'error');
    sink.write(overInlineLimit);
    await sleep(50);
    sink.write(Buffer.alloc(1000, 'b')); // accepted into the file stream's buffer; its write to the disk fails
    await sleep(50);
    sink.write(Buffer.alloc(1000, 'c'));
    sink.end();
    const [error] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ENOSPC');
  });

  test('a failing last write fails the end, and Spool.sync fails too: the body is never taken as stored', async () => {
    const spool = spoolWithFullDisk(2);
    const sink = new BodySink(spool, 'last-write', new Date());
    let finished = false;
    sink.on('finish', () => (finished = true));
    const failed = once(sink, 'error');
    sink.write(overInlineLimit);
    await sleep(50);
    sink.write(Buffer.alloc(1000, 'b'));
    await sleep(50);
    sink.end();
    const [error] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'ENOSPC');
    assert.equal(finished, false);
    await assert.rejects(spool.sync(sink.file!), { code: 'ENOSPC' });
    assert.equal(statSync(sink.file!.path).size, overInlineLimit.length, 'short of the last chunk');
  });

  test('a spool whose hour directory cannot be made fails the write that needed it', async () => {
    const spool = new Spool(dataDir);
    spool.create = () => {
      throw Object.assign(new Error('EROFS: read-only file system, mkdir'), { code: 'EROFS' });
    };
    const sink = new BodySink(spool, 'no-directory', new Date());
    const failed = once(sink, 'error');
    sink.end(overInlineLimit);
    const [error] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(error.code, 'EROFS');
    assert.equal(sink.file, null);
  });

  test('a disk that takes every write: the body is in the file, byte for byte, and synced', async () => {
    const spool = spoolWithFullDisk(Number.POSITIVE_INFINITY);
    const sink = new BodySink(spool, 'whole', new Date());
    sink.write(overInlineLimit);
    sink.end(Buffer.from('tail'));
    await once(sink, 'finish');
    await spool.sync(sink.file!);
    assert.deepEqual(readFileSync(sink.file!.path), Buffer.concat([overInlineLimit, Buffer.from('tail')]));
  });
});

test('a body kept in memory is joined once, however often it is read, and again after a later write', async () => {
  const sink = new BodySink(new Spool(dataDir), 'inline-once', new Date());
  sink.write(Buffer.from('first line\r\n'));
  sink.write(Buffer.from('second line\r\n'));
  const body = sink.inline!;
  assert.equal(body.toString(), 'first line\r\nsecond line\r\n');
  assert.equal(sink.inline, body, 'the same Buffer: not a second copy of the body');
  sink.end(Buffer.from('last line\r\n'));
  await once(sink, 'finish');
  assert.equal(sink.inline!.toString(), 'first line\r\nsecond line\r\nlast line\r\n');
  assert.equal(body.toString(), 'first line\r\nsecond line\r\n', 'a Buffer handed out earlier is not changed');
});
