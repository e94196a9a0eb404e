import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { RelaxedBodyHash } from '../../../src/message/dkim/relaxed-canonicalization.js';
import { Prng } from '../../../bench/prng.js';

/** RFC 6376 3.4.4 on the whole body at once, as the RFC words it. */
function referenceHash(body: string): string {
  const lines = body.split('\r\n');
  const canonical = lines.map((line) => line.replace(/[ \t]+/g, ' ').replace(/ $/, ''));
  let text = canonical.join('\r\n');
  text = text.replace(/(\r\n)*$/, '');
  return createHash('sha256').update(text === '' ? '' : `${text}\r\n`, 'latin1').digest('base64');
}

function hashInChunks(body: Buffer, cuts: number[]): string {
  const hash = new RelaxedBodyHash();
  let start = 0;
  for (const cut of [...cuts, body.length]) {
    hash.update(body.subarray(start, cut));
    start = cut;
  }
  return hash.digest();
}

test('the relaxed body hash equals the RFC 6376 canonicalization whatever the chunking, with and without whitespace to fold', () => {
  const prng = new Prng(20261204);
  const pieces = ['abc', 'QUJD', ' ', '  ', '\t', '', '.', 'x y', 'end ', ' lead'];
  for (let round = 0; round < 500; round++) {
    const lines = Array.from({ length: prng.between(0, 12) }, () => Array.from({ length: prng.between(0, 4) }, () => prng.pick(pieces)).join(''));
    const tail = prng.int(4) === 0 ? 'no newline at end' : '';
    const body = Buffer.from(lines.map((line) => `${line}\r\n`).join('') + tail, 'latin1');
    const cuts = Array.from({ length: prng.between(0, 4) }, () => prng.between(0, body.length)).sort((a, b) => a - b);
    assert.equal(hashInChunks(body, cuts), referenceHash(body.toString('latin1')), JSON.stringify({ body: body.toString('latin1'), cuts }));
  }
});

test('a body of only empty lines hashes as an empty body, and CRLF split across chunks is one line end', () => {
  assert.equal(hashInChunks(Buffer.from('\r\n\r\n\r\n'), [1, 3]), referenceHash(''));
  assert.equal(hashInChunks(Buffer.from('a\r\n\r\nb\r\n\r\n'), [2, 5, 9]), referenceHash('a\r\n\r\nb\r\n\r\n'));
});

test('a space pair, a space before the line end and a tab are canonicalized at every offset in a line, even or odd', () => {
  for (let offset = 0; offset < 6; offset++) {
    const lead = 'x'.repeat(offset);
    for (const line of [`${lead}  y`, `${lead} `, `${lead}\ty`, `${lead} \t`, `${lead} y`]) {
      const body = `a b\r\n${line}\r\nend\r\n`;
      assert.equal(hashInChunks(Buffer.from(body, 'latin1'), []), referenceHash(body), JSON.stringify(line));
    }
  }
});
