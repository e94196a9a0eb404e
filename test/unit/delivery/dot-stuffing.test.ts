import test from 'node:test';
import assert from 'node:assert/strict';
import DataStream from 'nodemailer/lib/smtp-connection/data-stream.js';
import { Prng } from '../../../bench/prng.js';
import { stuffDots } from '../../../src/delivery/dot-stuffing.js';

async function encode(chunks: Buffer[], fast: boolean): Promise<Buffer> {
  const stream = new DataStream();
  if (fast) stream._transform = stuffDots as typeof stream._transform;
  const out: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => out.push(chunk));
  const ended = new Promise((resolve) => stream.on('end', resolve));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  await ended;
  return Buffer.concat(out);
}

test('the fast dot-stuffing writes what nodemailer writes for CRLF-only data, whatever the chunking', async () => {
  const prng = new Prng(7);
  const pieces = ['.', '..', 'a.b', '.x', 'text', ''];
  for (let round = 0; round < 300; round++) {
    const text = Array.from({ length: prng.between(0, 8) }, () => Array.from({ length: prng.between(0, 3) }, () => prng.pick(pieces)).join('')).join('\r\n') + (prng.chance(0.5) ? '\r\n' : '');
    const body = Buffer.from(text);
    const cuts = Array.from({ length: prng.between(0, 3) }, () => prng.between(0, body.length)).sort((a, b) => a - b);
    const chunks = [...cuts, body.length].map((cut, index, all) => body.subarray(index === 0 ? 0 : all[index - 1], cut));
    assert.deepEqual(await encode(chunks, true), await encode(chunks, false), JSON.stringify({ text, cuts }));
  }
});
