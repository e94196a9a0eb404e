import test from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { LineScanner } from '../../../src/message/line-scanner.js';
import { TransportGuard, UnsendableContentError } from '../../../src/message/transport-guard.js';

function scan(chunks: string[]): Pick<LineScanner, 'nul' | 'eightBit' | 'longLine' | 'bareLineEnding'> {
  const scanner = new LineScanner();
  for (const chunk of chunks) scanner.scan(Buffer.from(chunk, 'latin1'));
  scanner.end();
  const { nul, eightBit, longLine, bareLineEnding } = scanner;
  return { nul, eightBit, longLine, bareLineEnding };
}

/** Every way to cut `text` in two (an empty piece included). */
const twoWaySplits = (text: string): string[][] => Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)]);

const CLEAN = { nul: false, eightBit: false, longLine: false, bareLineEnding: false };

const CASES: Array<[string, string, Partial<typeof CLEAN>]> = [
  ['998 bytes and CRLF', `${'a'.repeat(998)}\r\nnext\r\n`, {}],
  ['999 bytes and CRLF', `${'a'.repeat(999)}\r\nnext\r\n`, { longLine: true }],
  ['a last line of 998 bytes without CRLF', `x\r\n${'a'.repeat(998)}`, {}],
  ['a last line of 999 bytes without CRLF', `x\r\n${'a'.repeat(999)}`, { longLine: true }],
  ['a bare LF', 'a\nb\r\n', { bareLineEnding: true }],
  ['a bare CR', 'a\rb\r\n', { bareLineEnding: true }],
  ['a CR at the very end', 'a\r\nb\r', { bareLineEnding: true }],
  ['a NUL', 'a\r\n\0.\r\n', { nul: true }],
  ['an 8-bit byte', 'caf\xe9\r\n', { eightBit: true }],
];

for (const [name, text, found] of CASES) {
  test(`line scanner: ${name}, whatever the chunk boundaries`, () => {
    const expected = { ...CLEAN, ...found };
    // Splits near the interesting end of long lines are enough; every split of the short texts.
    const splits = text.length < 100 ? twoWaySplits(text) : [993, 997, 998, 999, 1000, 1001, 1002, 1003].map((at) => [text.slice(0, at), text.slice(at)]);
    for (const chunks of [[text], ...splits, [...text]]) assert.deepEqual(scan(chunks), expected, JSON.stringify(chunks.map((chunk) => chunk.length)));
  });
}

async function guard(eightBitAllowed: boolean, chunks: string[]): Promise<{ passed: string; error: string | null }> {
  const passed: Buffer[] = [];
  const guarded = Readable.from(chunks.map((chunk) => Buffer.from(chunk, 'latin1'))).pipe(new TransportGuard(eightBitAllowed));
  guarded.on('data', (chunk: Buffer) => passed.push(chunk));
  const error = await new Promise<string | null>((resolve) => {
    guarded.once('end', () => resolve(null));
    guarded.once('error', (failure) => resolve(failure instanceof UnsendableContentError ? failure.content : String(failure)));
  });
  return { passed: Buffer.concat(passed).toString('latin1'), error };
}

test('transport guard: 8-bit data passes only where 8BITMIME was offered, and the chunk that holds it is not passed on', async () => {
  assert.deepEqual(await guard(true, ['head\r\n', 'caf\xe9\r\n']), { passed: 'head\r\ncaf\xe9\r\n', error: null });
  assert.deepEqual(await guard(false, ['head\r\n', 'caf\xe9\r\n']), { passed: 'head\r\n', error: 'eight-bit' });
});

test('transport guard: NUL, bare line endings and long lines go to no hop', async () => {
  assert.deepEqual(await guard(true, ['a\r\n', '\0\r\n']), { passed: 'a\r\n', error: 'nul' });
  assert.deepEqual(await guard(true, ['a\r\n', 'b\nc\r\n']), { passed: 'a\r\n', error: 'bare-line-ending' });
  assert.deepEqual(await guard(true, ['a\r', 'b\r\n']), { passed: 'a\r', error: 'bare-line-ending' });
  assert.deepEqual(await guard(true, ['a\r\n', 'y'.repeat(1000)]), { passed: 'a\r\n', error: 'long-line' });
  // Found only at the end: everything was passed on, but the stream fails, so the end of data is never sent.
  assert.deepEqual(await guard(true, ['a\r\n', 'y'.repeat(999)]), { passed: `a\r\n${'y'.repeat(999)}`, error: 'long-line' });
  assert.deepEqual(await guard(false, ['a\r\n', 'b\r\n']), { passed: 'a\r\nb\r\n', error: null });
});
