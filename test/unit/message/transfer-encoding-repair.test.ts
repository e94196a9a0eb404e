import test from 'node:test';
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { Readable, type Transform } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { Base64Repair, QuotedPrintableRepair } from '../../../src/message/transfer-encoding-repair.js';
import { decodedParts } from '../../support/mime-content.js';

async function run(repair: () => Transform, chunks: Buffer[]): Promise<Buffer> {
  return buffer(Readable.from(chunks).pipe(repair()));
}

/** The repaired body, checked to come out the same for every cut of the input into two chunks. */
async function repaired(repair: () => Transform, input: Buffer): Promise<Buffer> {
  const whole = await run(repair, [input]);
  for (let at = 0; at <= input.length; at += input.length > 200 ? 37 : 1) {
    assert.deepEqual(await run(repair, [input.subarray(0, at), input.subarray(at)]), whole, `cut at ${at}`);
  }
  return whole;
}

/** What a reader decodes from a body with this transfer encoding (mailsplit's decoders, as mail clients decode). */
async function decoded(encoding: string, body: Buffer): Promise<Buffer> {
  const [part] = await decodedParts(Buffer.concat([Buffer.from(`Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: ${encoding}\r\n\r\n`), body]));
  return part!.content as Buffer;
}

const lineLengths = (data: Buffer) => data.toString('latin1').split('\r\n').map((line) => line.length);

test('quoted-printable repair: 8-bit bytes are escaped and long lines get soft breaks; the decoded content does not change', async () => {
  const input = Buffer.from(`caf\xe9 =E9=e9 a stray = and =Z1 ${'long line '.repeat(120)}=\r\nsoft-broken\r\n\xff\xfe end  \r\nlast`, 'latin1');
  const output = await repaired(() => new QuotedPrintableRepair(), input);
  assert.ok(isAscii(output));
  assert.ok(lineLengths(output).every((length) => length <= 76), `${lineLengths(output)}`);
  assert.ok(output.toString('latin1').startsWith('caf=E9 =E9=e9 a stray =3D and =3DZ1 '), 'existing escapes kept, stray "=" escaped');
  assert.match(output.toString('latin1'), /=\r\nsoft-broken\r\n=FF=FE end  \r\nlast$/, 'soft and hard line breaks kept');
  assert.deepEqual(await decoded('quoted-printable', output), await decoded('quoted-printable', input));
});

test('quoted-printable repair leaves a clean body byte for byte', async () => {
  const input = Buffer.from('plain text =E9 with a soft=\r\nbreak\r\nand lines\r\n', 'latin1');
  assert.deepEqual(await repaired(() => new QuotedPrintableRepair(), input), input);
});

test('base64 repair: what is outside the alphabet goes, lines are cut at 76; the decoded content does not change', async () => {
  const data = randomBytes(3000);
  const input = Buffer.from(`${data.toString('base64').slice(0, 2000)} \xe9\xff\t${data.toString('base64').slice(2000)}`, 'latin1');
  const output = await repaired(() => new Base64Repair(), input);
  assert.ok(isAscii(output));
  assert.deepEqual(lineLengths(output).slice(0, -1), Array(Math.floor(4000 / 76)).fill(76));
  assert.ok(!output.toString('latin1').endsWith('\r\n'), 'the CRLF before the next boundary belongs to the boundary');
  assert.deepEqual(await decoded('base64', output), data);
});
