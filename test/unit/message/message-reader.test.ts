import test from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { readMessage } from '../../../src/message/message-reader.js';
import { composeStoredHeader } from '../../../src/message/stored-header.js';
import { readSesControlHeaders } from '../../../src/message/ses-headers.js';
import { fieldValue } from '../../../src/message/header-section.js';
import { generateMessageId, MESSAGE_ID_PATTERN } from '../../../src/message/message-id.js';
import { formatRfc5322Date } from '../../../src/message/rfc5322-date.js';

async function read(text: string, limits = { maxBytes: 10_000, maxHeaderBytes: 1000 }, chunkSize = text.length || 1) {
  const chunks: Buffer[] = [];
  for (let i = 0; i < text.length; i += chunkSize) chunks.push(Buffer.from(text.slice(i, i + chunkSize), 'latin1'));
  const body = new PassThrough();
  const bodyText = buffer(body);
  const message = await readMessage(Readable.from(chunks), body, limits);
  return { message, body: (await bodyText).toString('latin1') };
}

const SAMPLE =
  'X-SES-CONFIGURATION-SET: ConfigSet\r\nFrom:Sender Name <sender@example.com>\r\nTo: r@example.org\r\nSubject: folded\r\n  subject\r\n' +
  'X-SES-MESSAGE-TAGS: a=1, b=2\r\nx-ses-configuration-set: second\r\nBcc: hidden@example.org\r\nDate: Fri, 1 Jan 2010 00:00:00 +0000\r\n' +
  'Message-ID: <client@example.com>\r\nReturn-Path: <bounces@example.com>\r\nX-Custom: kept\r\n\r\nbody line\r\n.leading dot\r\n';

// Chunks of 1 to 4 bytes split the first line end and the blank line at every offset.
for (const chunkSize of [SAMPLE.length, 7, 4, 3, 2, 1]) {
  test(`splits header and body (chunks of ${chunkSize})`, async () => {
    const { message, body } = await read(SAMPLE, undefined, chunkSize);
    assert.equal(body, 'body line\r\n.leading dot\r\n');
    assert.equal(message.bodyBytes, body.length);
    assert.equal(message.size, SAMPLE.length);
    assert.deepEqual(
      message.headers.fields.map((field) => field.name),
      ['X-SES-CONFIGURATION-SET', 'From', 'To', 'Subject', 'X-SES-MESSAGE-TAGS', 'x-ses-configuration-set', 'Bcc', 'Date', 'Message-ID', 'Return-Path', 'X-Custom'],
    );
    assert.equal(fieldValue(message.headers.all('subject')[0]!), 'folded  subject');
    assert.equal(message.headers.first('From'), 'Sender Name <sender@example.com>');
  });
}

test('SES control headers: the first instance of each is used', async () => {
  const { message } = await read(SAMPLE);
  assert.deepEqual(readSesControlHeaders(message.headers), { configurationSet: 'ConfigSet', messageTags: 'a=1, b=2' });
});

test('the stored header drops X-SES-*, Bcc, Return-Path and the client Date/Message-ID, and adds the gateway ones', async () => {
  const { message } = await read(SAMPLE);
  assert.equal(
    composeStoredHeader(message.headers, '<id@gw.example>', 'Mon, 23 Nov 2026 14:42:00 +0000'),
    'From:Sender Name <sender@example.com>\r\nTo: r@example.org\r\nSubject: folded\r\n  subject\r\nX-Custom: kept\r\n' +
      'Message-ID: <id@gw.example>\r\nDate: Mon, 23 Nov 2026 14:42:00 +0000\r\n',
  );
});

for (const chunkSize of [undefined, 3, 1]) {
  test(`a message without a header section is all body (chunks of ${chunkSize ?? 'all'})`, async () => {
    const { message, body } = await read('just text\r\nmore\r\n', undefined, chunkSize);
    assert.equal(message.headers.fields.length, 0);
    assert.equal(body, 'just text\r\nmore\r\n');
  });

  test(`a message that starts with a blank line has an empty header section (chunks of ${chunkSize ?? 'all'})`, async () => {
    const { message, body } = await read('\r\nSubject: in the body\r\n', undefined, chunkSize);
    assert.equal(message.headers.fields.length, 0);
    assert.equal(body, 'Subject: in the body\r\n');
  });
}

test('a header section of 1 MB sent in 64-byte pieces is read whole, byte for byte', async () => {
  const fields = Array.from({ length: 16_000 }, (_, index) => `X-F${index}: ${'v'.repeat(50)}\r\n`).join('');
  const text = `${fields}\r\nthe body\r\n`;
  const { message, body } = await read(text, { maxBytes: 2_000_000, maxHeaderBytes: 1024 * 1024 }, 64);
  assert.equal(message.headers.fields.length, 16_000);
  assert.equal(message.headers.fields.map((field) => field.raw).join(''), fields);
  assert.equal(body, 'the body\r\n');
});

test('a message that is only headers has an empty body', async () => {
  const { message, body } = await read('Subject: only\r\n');
  assert.equal(body, '');
  assert.equal(message.headers.first('subject'), 'only');
});

test('bare LF messages are normalised before splitting', async () => {
  const { message, body } = await read('Subject: lf\nFrom: a@b\n\nline\n');
  assert.equal(message.headers.first('from'), 'a@b');
  assert.equal(body, 'line\r\n');
  assert.equal(message.bareLineEndings, 4);
});

test('over the size limit: reported, and the body stops being stored', async () => {
  const { message, body } = await read(`Subject: big\r\n\r\n${'x'.repeat(5000)}\r\n`, { maxBytes: 1000, maxHeaderBytes: 500 }, 100);
  assert.equal(message.tooLarge, true);
  assert.ok(body.length < 1000);
});

test('a header section larger than its limit is reported, with or without a line end before the limit', async () => {
  for (const text of [`Subject: ${'h'.repeat(2000)}\r\n\r\nbody\r\n`, `Subject: short\r\nX: ${'h'.repeat(2000)}\r\n\r\nbody\r\n`]) {
    for (const chunkSize of [100, 1]) {
      const { message } = await read(text, { maxBytes: 10_000, maxHeaderBytes: 500 }, chunkSize);
      assert.equal(message.headerTooLarge, true, `chunks of ${chunkSize}`);
    }
  }
});

test('message ids have the SES shape and sort by time', () => {
  const early = generateMessageId('n1', 1_700_000_000_000);
  const late = generateMessageId('n1', 1_700_000_000_001);
  assert.match(early, MESSAGE_ID_PATTERN);
  assert.ok(early.slice(0, 16) < late.slice(0, 16));
});

test('dates are RFC 5322 in UTC', () => {
  assert.equal(formatRfc5322Date(new Date(Date.UTC(2026, 10, 23, 14, 42, 5))), 'Mon, 23 Nov 2026 14:42:05 +0000');
});

test('content SMTP cannot carry: NUL anywhere and 8-bit header bytes are problems; 8-bit or long body lines ask for re-encoding', async () => {
  const problem = async (text: string) => {
    const { message } = await read(text, { maxBytes: 10_000, maxHeaderBytes: 5000 }, 3);
    return [message.problem, message.needsTransportEncoding];
  };
  assert.deepEqual(await problem('Subject: ok\r\n\r\nbody\r\n'), [null, false]);
  assert.deepEqual(await problem('Subject: ok\r\n\r\nfirst\r\n\0.\r\nMAIL FROM:<a@b>\r\n'), ['nul', false]);
  assert.deepEqual(await problem('Subject: a\0b\r\n\r\nbody\r\n'), ['nul', false]);
  assert.deepEqual(await problem('Subject: caf\xe9\r\n\r\ncaf\xe9\0\r\n'), ['nul', true], 'NUL first: nothing makes it sendable');
  assert.deepEqual(await problem('Subject: caf\xe9\r\n\r\nbody\r\n'), ['eight-bit-header', false]);
  assert.deepEqual(await problem(`X-Token: ${'t'.repeat(1200)}\r\n\r\nbody\r\n`), ['long-header-line', false]);
  assert.deepEqual(await problem('Subject: ok\r\n\r\ncaf\xe9\r\n'), [null, true]);
  assert.deepEqual(await problem(`Subject: ok\r\n\r\n${'y'.repeat(999)}\r\n`), [null, true]);
  assert.deepEqual(await problem(`Subject: ok\r\n\r\n${'y'.repeat(998)}\r\n`), [null, false]);
});

test('header lines over 998 bytes come back folded', async () => {
  const subject = Array.from({ length: 300 }, (_, index) => `w${index}`).join(' ');
  const { message } = await read(`Subject: ${subject}\r\n\r\nbody\r\n`, { maxBytes: 10_000, maxHeaderBytes: 5000 });
  const [field] = message.headers.all('Subject');
  assert.ok(field!.raw.split('\r\n').every((line) => line.length <= 998));
  assert.ok(field!.raw.includes('\r\n '));
  assert.equal(message.headers.first('Subject'), subject);
  assert.equal(message.problem, null);
});
