import test from 'node:test';
import assert from 'node:assert/strict';
import { mayChangeMode } from '../../../bench/fuzz/fuzz-commands.js';
import { dataTransfer } from '../../../bench/fuzz/fuzz-content.js';
import { ReplyReader, type ServerReply } from '../../../bench/fuzz/reply-reader.js';
import { auditDelivered, messageId } from '../../../bench/fuzz/sink-audit.js';
import { Prng, sessionSeed } from '../../../bench/prng.js';

function read(...chunks: string[]): { replies: ServerReply[]; problems: string[] } {
  const replies: ServerReply[] = [];
  const problems: string[] = [];
  const reader = new ReplyReader(
    (reply) => replies.push(reply),
    (problem) => problems.push(problem),
  );
  for (const chunk of chunks) reader.push(Buffer.from(chunk, 'latin1'));
  reader.end();
  return { replies, problems };
}

test('reply reader: well-formed replies, split anywhere, pass', () => {
  const { replies, problems } = read('220 relay ESMTP\r\n250-relay\r', '\n250-PIPELINING\r\n250 SIZE 10', '\r\n250\r\n');
  assert.deepEqual(problems, []);
  assert.deepEqual(replies, [
    { code: 220, lines: ['220 relay ESMTP'] },
    { code: 250, lines: ['250-relay', '250-PIPELINING', '250 SIZE 10'] },
    { code: 250, lines: ['250'] },
  ]);
});

test('reply reader: each violation of the reply grammar is named', () => {
  assert.deepEqual(read('250 ok\n').problems, ['reply line ends in a bare LF']);
  assert.deepEqual(read('25 ok\r\n').problems, ['reply line does not start with a reply code']);
  assert.deepEqual(read('650 ok\r\n').problems, ['reply line does not start with a reply code']);
  assert.deepEqual(read('250_ok\r\n').problems, ['reply code followed by neither a space nor a dash']);
  assert.deepEqual(read('250 a\x00b\r\n').problems, ['control or 8-bit character in reply text']);
  assert.deepEqual(read('250 caf\xe9\r\n').problems, ['control or 8-bit character in reply text']);
  assert.deepEqual(read('250-a\r\n251 b\r\n').problems, ['multiline reply changes its code from 250']);
  assert.deepEqual(read(`250 ${'x'.repeat(600)}\r\n`).problems, ['reply line longer than 512 octets']);
  assert.deepEqual(read('250 cut').problems, ['reply line not terminated by CRLF before the connection closed']);
  assert.deepEqual(read('250-first\r\n').problems, ['multiline reply without its last line before the connection closed']);
});

test('dataTransfer dot-stuffs line-initial dots and ends with exactly one <CRLF>.<CRLF>', () => {
  const sent = (content: string) => dataTransfer(Buffer.from(content, 'latin1')).toString('latin1');
  assert.equal(sent(''), '.\r\n');
  assert.equal(sent('a\r\n'), 'a\r\n.\r\n');
  assert.equal(sent('a'), 'a\r\n.\r\n');
  assert.equal(sent('.\r\n.x\r\n'), '..\r\n..x\r\n.\r\n');
  assert.equal(sent('a\r\n.\r\n.\r\nb'), 'a\r\n..\r\n..\r\nb\r\n.\r\n');
  // Only CRLF-dot is line-initial for the server: a dot after a bare LF or CR is left alone.
  assert.equal(sent('a\n.\nb\r.\r'), 'a\n.\nb\r.\r\r\n.\r\n');
  // Wherever the content has CRLF-dot-CRLF, the only end of data the server sees is the last five bytes.
  for (const content of ['x\r\n.\r\ny', '.\r\n', '\r\n.\r\n.\r\n', 'a\r', '\r\n']) {
    const transfer = sent(content);
    assert.equal(transfer.indexOf('\r\n.\r\n'), transfer.length - 5, JSON.stringify(content));
    assert.ok(!transfer.startsWith('.\r\n'), JSON.stringify(content));
  }
});

test('mayChangeMode: DATA, STARTTLS and BDAT in either reading of the verb', () => {
  for (const line of ['DATA', 'data\r\n', 'DATA extra', 'STARTTLS', 'starttls\n', 'BDAT 5 LAST', 'DATA\tx', 'DATA\x00']) assert.ok(mayChangeMode(line), line);
  for (const line of ['NOOP', 'DATAX', 'MAIL FROM:<a@b>', ' DATA', 'XDATA']) assert.ok(!mayChangeMode(line), line);
});

test('auditDelivered: NUL, bare CR, bare LF and lines over 998 bytes', () => {
  const audit = (text: string) => auditDelivered(Buffer.from(text, 'latin1'));
  assert.deepEqual(audit(`a\r\n${'x'.repeat(998)}\r\n`), { nul: false, bareLineEnding: false, longLine: 0 });
  assert.deepEqual(audit(`a\r\n${'x'.repeat(999)}\r\n`), { nul: false, bareLineEnding: false, longLine: 999 });
  assert.deepEqual(audit(`${'x'.repeat(1200)}`), { nul: false, bareLineEnding: false, longLine: 1200 });
  assert.deepEqual(audit('a\x00b\r\n'), { nul: true, bareLineEnding: false, longLine: 0 });
  assert.deepEqual(audit('a\rb\r\n'), { nul: false, bareLineEnding: true, longLine: 0 });
  assert.deepEqual(audit('a\nb\r\n'), { nul: false, bareLineEnding: true, longLine: 0 });
  assert.equal(messageId(Buffer.from('Subject: x\r\nmessage-id:  <abc@host>\r\n\r\nMessage-ID: <body@x>\r\n')), '<abc@host>');
});

test('the PRNG replays from its seed, and sessions of a run get distinct seeds', () => {
  const draw = (seed: number) => {
    const rng = new Prng(seed);
    return Array.from({ length: 5 }, () => rng.next());
  };
  assert.deepEqual(draw(42), draw(42));
  assert.notDeepEqual(draw(42), draw(43));
  const seeds = new Set(Array.from({ length: 10_000 }, (_, index) => sessionSeed(1, index)));
  assert.equal(seeds.size, 10_000);
  assert.equal(sessionSeed(1, 7), sessionSeed(1, 7));
});
