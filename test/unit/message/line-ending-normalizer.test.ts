import test from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { LineEndingNormalizer } from '../../../src/message/line-ending-normalizer.js';

async function normalize(chunks: string[]): Promise<{ text: string; bare: number }> {
  const normalizer = new LineEndingNormalizer();
  const out = await buffer(Readable.from(chunks.map((chunk) => Buffer.from(chunk, 'latin1'))).pipe(normalizer));
  return { text: out.toString('latin1'), bare: normalizer.bareLineEndings };
}

const CASES: Array<[string, string, string, number]> = [
  ['CRLF untouched', 'a\r\nb\r\n', 'a\r\nb\r\n', 0],
  ['bare LF', 'a\nb\n', 'a\r\nb\r\n', 2],
  ['bare CR', 'a\rb\r', 'a\r\nb\r\n', 2],
  ['<LF>.<LF>', 'x\n.\nMAIL FROM:<a@b>\r\n', 'x\r\n.\r\nMAIL FROM:<a@b>\r\n', 2],
  ['<CR>.<CR>', 'x\r.\rRCPT\r\n', 'x\r\n.\r\nRCPT\r\n', 2],
  ['<LF>.<CRLF>', 'x\n.\r\n', 'x\r\n.\r\n', 1],
  ['<CRLF>.<LF>', 'x\r\n.\n', 'x\r\n.\r\n', 1],
  ['CR CR LF', 'a\r\r\nb', 'a\r\n\r\nb', 1],
  ['8-bit bytes kept', 'caf\xe9\r\n', 'caf\xe9\r\n', 0],
];

for (const [name, input, expected, bare] of CASES) {
  test(`normalises ${name}`, async () => {
    assert.deepEqual(await normalize([input]), { text: expected, bare });
  });
  test(`normalises ${name} split into one-byte chunks`, async () => {
    assert.deepEqual(await normalize([...input]), { text: expected, bare });
  });
}

test('a CR at the end of the stream becomes CRLF', async () => {
  assert.deepEqual(await normalize(['end\r']), { text: 'end\r\n', bare: 1 });
});

/** What the normaliser must produce whatever the chunking: every CRLF, bare CR and bare LF as one CRLF. */
const reference = (text: string) => text.replace(/\r\n|\r|\n/g, '\r\n');

/** Every way to cut `text` into three chunks, empty ones included (a stream may deliver an empty chunk). */
function threeWaySplits(text: string): string[][] {
  const splits: string[][] = [];
  for (let first = 0; first <= text.length; first++) {
    for (let second = first; second <= text.length; second++) splits.push([text.slice(0, first), text.slice(first, second), text.slice(second)]);
  }
  return splits;
}

for (const input of ['a\r\nb', 'a\r\rb\n', '\n\r\r\n\n', 'x\r\n.\r\ny\r', '\r\r\r\n\n\n']) {
  test(`chunk boundaries anywhere, empty chunks included, do not change the result: ${JSON.stringify(input)}`, async () => {
    const expected = reference(input);
    for (const chunks of threeWaySplits(input)) {
      const { text } = await normalize(chunks);
      assert.equal(text, expected, `chunks ${JSON.stringify(chunks)}`);
    }
  });
}

test('a chunk whose line endings are all CRLF is passed on as it is, not copied', async () => {
  const normalizer = new LineEndingNormalizer();
  const chunk = Buffer.from('Subject: clean\r\n\r\nline one\r\nline two\r\n');
  const passed = new Promise<Buffer>((resolve) => normalizer.once('data', resolve));
  normalizer.end(chunk);
  assert.equal(await passed, chunk);
  assert.equal(normalizer.bareLineEndings, 0);
});
