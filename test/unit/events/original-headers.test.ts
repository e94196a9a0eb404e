import test from 'node:test';
import assert from 'node:assert/strict';
import { originalHeaders, ORIGINAL_HEADERS_LIMIT } from '../../../src/events/producers/original-headers.js';
import { HeaderFields, parseHeaderSection } from '../../../src/message/header-section.js';

const section = (text: string) => new HeaderFields(parseHeaderSection(text));

test('original headers: every field in order, X-SES-* included, folded values unfolded, UTF-8 bytes decoded', () => {
  const raw = [
    'X-SES-CONFIGURATION-SET: ConfigSet',
    'X-SES-MESSAGE-TAGS: campaign=book, genre=fiction',
    'From: "Sender Name" <sender@example.com>',
    'To: "Jane Doe" <jane@example.com>,',
    '\t"Mary Doe" <mary@example.com>',
    'Subject: Gr\u00c3\u00bc\u00c3\u009fe',
    'Content-Type: multipart/alternative; boundary="XBoundary"',
    '',
  ].join('\r\n');
  assert.deepEqual(originalHeaders(section(raw)), {
    truncated: false,
    headers: [
      { name: 'X-SES-CONFIGURATION-SET', value: 'ConfigSet' },
      { name: 'X-SES-MESSAGE-TAGS', value: 'campaign=book, genre=fiction' },
      { name: 'From', value: '"Sender Name" <sender@example.com>' },
      { name: 'To', value: '"Jane Doe" <jane@example.com>,\t"Mary Doe" <mary@example.com>' },
      { name: 'Subject', value: 'Grüße' },
      { name: 'Content-Type', value: 'multipart/alternative; boundary="XBoundary"' },
    ],
  });
});

test('original headers of 10 KB or more: the whole fields below 10 KB, marked truncated', () => {
  const filler = (n: number) => `X-Filler-${n}: ${'x'.repeat(1000 - 14)}\r\n`; // 1000 bytes each with CRLF
  assert.equal(filler(1).length, 1000);
  const under = `${Array.from({ length: 10 }, (_, n) => filler(n)).join('')}X-End: ${'1'.repeat(230)}\r\n`;
  assert.equal(under.length, ORIGINAL_HEADERS_LIMIT - 1, 'one byte short of 10 KB');
  const kept = originalHeaders(section(under));
  assert.equal(kept.truncated, false);
  assert.equal(kept.headers.length, 11);

  const exactly = under.replace('X-End: 1', 'X-End: 11');
  assert.equal(exactly.length, ORIGINAL_HEADERS_LIMIT);
  const cut = originalHeaders(section(exactly));
  assert.equal(cut.truncated, true, 'exactly 10 KB is truncated ("10 KB or larger")');
  assert.deepEqual(cut.headers.map((header) => header.name), Array.from({ length: 10 }, (_, n) => `X-Filler-${n}`));
});
