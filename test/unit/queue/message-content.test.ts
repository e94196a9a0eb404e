import test, { after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { messageParts, messageStream } from '../../../src/queue/message-content.js';
import { Spool } from '../../../src/queue/spool.js';

const directory = mkdtempSync(join(tmpdir(), 'relaygate-content-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const spool = new Spool(directory);

const signature = Buffer.from('DKIM-Signature: v=1; b=abc\r\n');
const header = Buffer.from('From: a@example.com\r\nSubject: s\r\n');
const bodyOf = (bytes: number) => Buffer.from('x'.repeat(bytes - 2) + '\r\n');

async function chunksOf(stream: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return chunks;
}

test('a small inline message goes out as one chunk: signature, header, blank line, body', async () => {
  const body = bodyOf(16 * 1024);
  const chunks = await chunksOf(messageStream(spool, { header, body, bodyFile: '' }, signature));
  assert.equal(chunks.length, 1);
  assert.deepEqual(chunks[0], Buffer.concat([signature, header, Buffer.from('\r\n'), body]));
});

test('a larger inline body follows the header as the same Buffer, not copied', async () => {
  const body = bodyOf(16 * 1024 + 2);
  const chunks = await chunksOf(messageStream(spool, { header, body, bodyFile: '' }, signature));
  assert.equal(chunks.length, 2);
  assert.deepEqual(chunks[0], Buffer.concat([signature, header, Buffer.from('\r\n')]));
  assert.equal(chunks[1], body);
});

test('a spooled body is read from its file, after the header', async () => {
  const body = bodyOf(200 * 1024);
  const file = spool.create('0100000000000000-content', new Date());
  file.stream.end(body);
  await finished(file.stream);
  const streamed = Buffer.concat(await chunksOf(messageStream(spool, { header, body: null, bodyFile: file.name }, signature)));
  assert.deepEqual(streamed, Buffer.concat([signature, header, Buffer.from('\r\n'), body]));
  const parts = Buffer.concat(await chunksOf(messageParts(spool, { header, body: null, bodyFile: file.name })));
  assert.deepEqual(parts, Buffer.concat([header, Buffer.from('\r\n'), body]));
});

test('the parts of an inline message are its own Buffers: header, blank line, body', async () => {
  const body = bodyOf(100 * 1024);
  const parts = await chunksOf(messageParts(spool, { header, body, bodyFile: '' }));
  assert.equal(parts.length, 3);
  assert.equal(parts[0], header);
  assert.deepEqual(parts[1], Buffer.from('\r\n'));
  assert.equal(parts[2], body);
});
