import test from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable, Transform, Writable } from 'node:stream';
import { pipeStreams, pipeStreamsAsync } from '../../../src/common/pipe-streams.js';

function collector(): { sink: Writable; received: Buffer[] } {
  const received: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      received.push(chunk);
      callback();
    },
  });
  return { sink, received };
}

const upperCase = () =>
  new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      callback(null, Buffer.from(chunk.toString('latin1').toUpperCase(), 'latin1'));
    },
  });

test('pipeStreams: the data goes through every stream, and done comes once the last has finished', async () => {
  const { sink, received } = collector();
  await pipeStreamsAsync([Readable.from([Buffer.from('one '), Buffer.from('two')]), upperCase(), new PassThrough(), sink]);
  assert.equal(Buffer.concat(received).toString(), 'ONE TWO');
  assert.equal(sink.writableFinished, true);
});

test('pipeStreams: a stream in the middle fails; done gets its error once and every stream is destroyed with it', async () => {
  const source = new PassThrough();
  const failing = new Transform({
    transform(_chunk, _encoding, callback) {
      callback(new Error('cannot transform'));
    },
  });
  const { sink } = collector();
  const calls: Array<Error | null> = [];
  const sinkError = new Promise<Error>((resolve) => sink.once('error', resolve));
  pipeStreams([source, failing, sink], (error) => calls.push(error));
  source.write('data');
  assert.equal((await sinkError).message, 'cannot transform', 'the last stream learns why');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(calls.map((error) => error?.message), ['cannot transform']);
  assert.equal(source.destroyed, true);
  assert.equal(sink.destroyed, true);
});

test('pipeStreams: a source closed before its end (a client gone mid-DATA) fails the pipe, and nothing waits for ever', async () => {
  const source = new PassThrough();
  const { sink } = collector();
  const piped = pipeStreamsAsync([source, upperCase(), sink]);
  source.write('half a message');
  source.destroy();
  await assert.rejects(piped, { code: 'ERR_STREAM_PREMATURE_CLOSE' });
  assert.equal(sink.destroyed, true);
});
