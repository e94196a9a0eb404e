import test from 'node:test';
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { PassThrough, Readable, Writable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { readMessage, type ReadMessage } from '../../../src/message/message-reader.js';
import { encodeForTransport } from '../../../src/message/transport-encoding.js';
import { decodedParts, unsendableLines } from '../../support/mime-content.js';
import { chunked } from '../../support/chunked.js';

const LIMITS = { maxBytes: 100_000_000, maxHeaderBytes: 1_000_000 };
const lines = (...text: string[]) => Buffer.from(text.join('\r\n'), 'latin1');
const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');


/** Reads `raw` as DATA and, as the submission side does, re-encodes it when it needs it; the message as stored. */
async function accept(raw: Buffer, chunkSize = 4096): Promise<{ received: ReadMessage; message: ReadMessage; stored: Buffer }> {
  const first = new PassThrough();
  const firstBody = buffer(first);
  const received = await readMessage(Readable.from(chunked(raw, chunkSize)), first, LIMITS);
  const body = await firstBody;
  const open = () => Readable.from(chunked(Buffer.concat([Buffer.from(`${received.headers.toString()}\r\n`, 'latin1'), body]), chunkSize));
  if (!received.needsTransportEncoding || received.problem) return { received, message: received, stored: Buffer.concat([Buffer.from(`${received.headers.toString()}\r\n`, 'latin1'), body]) };
  const second = new PassThrough();
  const secondBody = buffer(second);
  const message = await encodeForTransport(received, open, second, LIMITS);
  // A refused message's body is destroyed with the reason: what was written of it is not a message.
  if (message.problem) return { received, message, stored: await secondBody.then(() => Buffer.alloc(0), () => Buffer.alloc(0)) };
  return { received, message, stored: Buffer.concat([Buffer.from(`${message.headers.toString()}\r\n`, 'latin1'), await secondBody]) };
}

const MIXED = lines(
  'From: a@example.com',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="b"',
  '',
  '--b',
  'Content-Type: text/plain; charset=us-ascii',
  '',
  'a clean 7-bit part',
  '--b',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: 8bit',
  '',
  utf8('8-bit: naïve'),
  `trailing white space   `,
  '--b',
  'Content-Type: image/png',
  'Content-Transfer-Encoding: base64',
  '',
  randomBytes(300).toString('base64').replace(/.{76}/g, '$&\r\n'),
  '--b--',
  '',
);

test('only the parts that need it are re-encoded; the others stay byte for byte', async () => {
  const { received, message, stored } = await accept(MIXED);
  assert.equal(received.needsTransportEncoding, true);
  assert.deepEqual([message.problem, message.needsTransportEncoding, message.bareLineEndings], [null, false, 0]);
  assert.ok(isAscii(stored));
  const text = stored.toString('latin1');
  assert.ok(text.includes('Content-Type: text/plain; charset=us-ascii\r\n\r\na clean 7-bit part\r\n--b\r\n'));
  assert.ok(text.includes('Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n8-bit: na=C3=AFve\r\ntrailing white space  =20\r\n--b\r\n'));
  const image = MIXED.toString('latin1').split('\r\n--b')[3]!;
  assert.ok(text.includes(image), 'the base64 part is untouched');
  assert.deepEqual(await decodedParts(stored), await decodedParts(MIXED));
});

test('the result does not depend on how the input was cut into chunks', async () => {
  const { stored } = await accept(MIXED);
  for (const size of [1, 7, 64, 1000]) assert.deepEqual((await accept(MIXED, size)).stored, stored, `chunks of ${size}`);
});

test('an attached message is re-encoded part by part, and its own Content-Transfer-Encoding becomes 7bit', async () => {
  const original = lines(
    'From: a@example.com',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b"',
    '',
    '--b',
    'Content-Type: message/rfc822',
    'Content-Transfer-Encoding: 8bit',
    '',
    'From: inner@example.org',
    'Subject: inner',
    '',
    utf8('körper'),
    '--b--',
    '',
  );
  const { message, stored } = await accept(original);
  assert.equal(message.problem, null);
  assert.ok(isAscii(stored));
  assert.match(stored.toString('latin1'), /Content-Type: message\/rfc822\r\nContent-Transfer-Encoding: 7bit\r\n\r\nMIME-Version: 1\.0\r\nContent-Transfer-Encoding: quoted-printable\r\nFrom: inner@example\.org\r\nSubject: inner\r\n\r\nk=C3=B6rper\r\n--b--/);
  assert.deepEqual(await decodedParts(stored), await decodedParts(original));
});

test("a part's header lines over 998 bytes are folded; 8-bit bytes in them are refused", async () => {
  const filename = Array.from({ length: 200 }, (_, index) => `part${index}`).join(' ');
  const long = lines('From: a@example.com', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', `Content-Type: text/plain; name="${filename}"`, '', 'text', '--b--', '');
  const { message, stored } = await accept(long);
  assert.equal(message.problem, null);
  assert.deepEqual(unsendableLines(stored), []);
  assert.equal(stored.toString('latin1').replace(/\r\n(?=[ \t])/g, ''), long.toString('latin1'));

  const eightBit = lines('From: a@example.com', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', '--b', `Content-Type: text/plain; name="${utf8('é.txt')}"`, '', 'text', '--b--', '');
  assert.equal((await accept(eightBit)).message.problem, 'eight-bit-header');
});

test('what cannot be re-encoded is refused: signed content, an unknown transfer encoding, 8-bit text outside the parts', async () => {
  const multipart = (type: string, ...body: string[]) =>
    lines('From: a@example.com', 'MIME-Version: 1.0', `Content-Type: ${type}; boundary="b"`, '', ...body, '--b--', '');
  const signed = multipart('multipart/signed; protocol="application/pgp-signature"', '--b', 'Content-Type: text/plain', '', utf8('signed ü'), '--b', 'Content-Type: application/pgp-signature', '', 'sig');
  const unknown = multipart('multipart/mixed', '--b', 'Content-Type: text/plain', 'Content-Transfer-Encoding: x-uuencode', '', utf8('ü'));
  const preamble = multipart('multipart/mixed', utf8('préambule'), '--b', 'Content-Type: text/plain', '', 'text');
  for (const [name, message] of [['signed', signed], ['unknown', unknown], ['preamble', preamble]] as const) {
    assert.equal((await accept(message)).message.problem, 'unencodable-part', name);
  }
});

test("a message past mailsplit's limits (more than 1,000 parts) is refused as too large, not as unencodable", async () => {
  const parts = Array.from({ length: 1200 }, (_, index) => ['--b', 'Content-Type: text/plain; charset=utf-8', '', utf8(`tëxt ${index}`)]).flat();
  const message = lines('From: a@example.com', 'MIME-Version: 1.0', 'Content-Type: multipart/mixed; boundary="b"', '', ...parts, '--b--', '');
  assert.equal((await accept(message)).message.problem, 'mime-too-large');
});

test('a large part streams: the re-encoded body is being written while the message is still being read', async () => {
  const chunk = Buffer.from(`${utf8('ä').repeat(500)}\r\n`, 'latin1');
  const chunks = 2000;
  const header = Buffer.from('From: a@example.com\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n', 'latin1');
  let produced = 0;
  const open = () => {
    produced = 0;
    return Readable.from(
      (function* () {
        yield header;
        for (let index = 0; index < chunks; index++, produced++) yield chunk;
      })(),
    );
  };
  const received = await readMessage(open(), new Writable({ write: (_chunk, _encoding, callback) => callback() }), LIMITS);
  let producedAtFirstWrite = -1;
  const sink = new Writable({
    write(_chunk, _encoding, callback) {
      if (producedAtFirstWrite === -1) producedAtFirstWrite = produced;
      callback();
    },
  });
  const message = await encodeForTransport(received, open, sink, LIMITS);
  assert.equal(message.problem, null);
  assert.ok(message.bodyBytes > chunks * chunk.length, 'quoted-printable makes it larger');
  assert.ok(producedAtFirstWrite >= 0 && producedAtFirstWrite < chunks / 2, `first write after ${producedAtFirstWrite} of ${chunks} chunks`);
});
