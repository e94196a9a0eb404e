import test from 'node:test';
import assert from 'node:assert/strict';
import { foldLongLines } from '../../../src/message/header-folding.js';

const unfold = (field: string) => field.replace(/\r\n(?=[ \t])/g, '');
const lineLengths = (field: string) => field.replace(/\r\n$/, '').split('\r\n').map((line) => line.length);

test('a field within 998 bytes a line is left as it is', () => {
  const field = `Subject: ${'a'.repeat(989)}\r\n`;
  assert.equal(foldLongLines(field), field);
});

test('a long line is folded before white space; unfolding gives the field back', () => {
  const words = Array.from({ length: 400 }, (_, index) => `w${index}`).join(' ');
  const field = `To: ${words.replace(/ w1(\d)(?=\s)/g, '\tw1$1')}\r\n`;
  const folded = foldLongLines(field)!;
  assert.notEqual(folded, field);
  assert.ok(lineLengths(folded).every((length) => length <= 998), `${lineLengths(folded)}`);
  assert.ok(lineLengths(folded).length > 1);
  assert.equal(unfold(folded), field);
  assert.match(folded, /\r\n[ \t]w\d/, 'each continuation line starts with the white space it was folded at');
});

test('existing continuation lines are kept; only the long one is folded', () => {
  const field = `Subject: short\r\n ${'word '.repeat(300)}end\r\n next\r\n`;
  const folded = foldLongLines(field)!;
  assert.ok(folded.startsWith('Subject: short\r\n '));
  assert.ok(folded.endsWith('end\r\n next\r\n'));
  assert.equal(unfold(folded), unfold(field));
  assert.ok(lineLengths(folded).every((length) => length <= 998));
});

test('no white space to fold at within 998 bytes: cannot be folded', () => {
  assert.equal(foldLongLines(`X-Token: ${'t'.repeat(1200)}\r\n`), null);
  assert.equal(foldLongLines(`X-Token: a ${'t'.repeat(1200)}\r\n`), null, 'the only break leaves a line of 1,200 bytes');
});

test('the field name stays whole, and no line is left empty or white space only', () => {
  assert.equal(foldLongLines(`X-Long${'e'.repeat(1000)} : value\r\n`), null);
  // White space only after the text: a break there would leave a line of spaces.
  assert.equal(foldLongLines(`X-Pad: value${' '.repeat(1000)}\r\n`), null);
  const folded = foldLongLines(`X-Pad: value${' '.repeat(500)}tail ${'x'.repeat(600)}\r\n`)!;
  assert.deepEqual(lineLengths(folded), [12 + 500 + 4, 1 + 600]);
});

test('a megabyte of words followed by a long run of white space is folded, or refused, in one pass', () => {
  const words = 'word '.repeat(200_000);
  // The trailing white space is found once (it was trimmed again at each of the thousand folds).
  const field = `Subject: ${words}${' '.repeat(900)}end\r\n`;
  const folded = foldLongLines(field)!;
  assert.equal(unfold(folded), field);
  assert.ok(lineLengths(folded).every((length) => length <= 998));
  assert.equal(foldLongLines(`Subject: ${words}${' '.repeat(3_000_000)}\r\n`), null, 'the white space after the last word is too long for one line');
});
