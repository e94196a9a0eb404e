import test from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimRecordName, dkimTxtRecord } from '../../../src/message/dkim/dns-record.js';
import { generateDkimKey } from '../../../src/message/dkim/keys.js';
import type { DkimKey } from '../../../src/message/dkim/keys.js';
import { DEFAULT_SIGNED_HEADERS, signMessage } from '../../../src/message/dkim/sign.js';
import type { DkimSigner } from '../../../src/message/dkim/sign.js';

const rsaKey = generateDkimKey('rsa-2048');
const edKey = generateDkimKey('ed25519');
const signers: DkimSigner[] = [
  { domain: 'example.com', selector: 'rsa2048', privateKeyPem: rsaKey.privateKeyPem, algorithm: rsaKey.algorithm },
  { domain: 'gateway.example.net', selector: 'ed1', privateKeyPem: edKey.privateKeyPem, algorithm: edKey.algorithm },
];

const message = Buffer.from(
  [
    'Return-Path: <bounce@gateway.example.net>',
    'Received: from app.example.com by gateway.example.net',
    'From: Sender <sender@example.com>',
    'To: Recipient <recipient@example.org>',
    'Bcc: hidden@example.org',
    'Subject: Quarterly report',
    'Date: Mon, 23 Nov 2026 10:00:00 +0000',
    'Message-ID: <0100018c-abc@example.com>',
    'X-SES-CONFIGURATION-SET: marketing',
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Hello,',
    '',
    'the numbers are in.   ',
    '',
  ].join('\r\n'),
);

const records = new Map<string, string>([
  [dkimRecordName('rsa2048', 'example.com'), dkimTxtRecord(rsaKey)],
  [dkimRecordName('ed1', 'gateway.example.net'), dkimTxtRecord(edKey)],
]);

// mailauth asks for (name, 'TXT') and reads the first record's strings, as dns.promises.resolveTxt returns them.
async function resolver(name: string): Promise<string[][]> {
  const txt = records.get(name);
  if (!txt) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
  return [[txt]];
}

async function verify(signed: Buffer): Promise<Array<{ selector?: string; result: string; comment?: string | false }>> {
  const { results } = await dkimVerify(signed, { resolver });
  return results.map(({ selector, status }) => ({ selector, result: status.result, comment: (status as { comment?: string | false }).comment }));
}

function unfold(header: string): string {
  return header.replace(/\r\n\s+/g, ' ');
}

function signedHeaders(signatures: string): string[][] {
  return [...unfold(signatures).matchAll(/\bh=([^;]+);/g)].map((match) => match[1].split(':').map((name) => name.trim().toLowerCase()));
}

test('RSA-2048 and Ed25519 signatures on one message both verify', async () => {
  const signatures = await signMessage(message, signers);
  assert.equal(signatures.match(/^DKIM-Signature: /gm)?.length, 2);
  assert.ok(signatures.endsWith('\r\n'));
  assert.match(unfold(signatures), /a=rsa-sha256; c=relaxed\/relaxed; d=example\.com;/);
  assert.match(unfold(signatures), /a=ed25519-sha256; c=relaxed\/relaxed; d=gateway\.example\.net;/);

  assert.deepEqual(await verify(Buffer.concat([Buffer.from(signatures), message])), [
    { selector: 'rsa2048', result: 'pass', comment: undefined },
    { selector: 'ed1', result: 'pass', comment: undefined },
  ]);
});

test('a modified body or signed header no longer verifies', async () => {
  const signatures = Buffer.from(await signMessage(message, signers));

  // mailauth v4 reports a body hash mismatch as "neutral", not "fail".
  const alteredBody = Buffer.from(message.toString().replace('numbers are in', 'numbers are out'));
  for (const outcome of await verify(Buffer.concat([signatures, alteredBody]))) {
    assert.deepEqual({ result: outcome.result, comment: outcome.comment }, { result: 'neutral', comment: 'body hash did not verify' });
  }
  const alteredSubject = Buffer.from(message.toString().replace('Quarterly report', 'Quarterly repor7'));
  for (const outcome of await verify(Buffer.concat([signatures, alteredSubject]))) {
    assert.deepEqual({ result: outcome.result, comment: outcome.comment }, { result: 'fail', comment: 'bad signature' });
  }
});

test('only the default headers present are signed; rewritten and X-SES headers are not', async () => {
  const signatures = await signMessage(message, signers);
  const expected = ['content-type', 'mime-version', 'message-id', 'date', 'subject', 'to', 'from'];
  assert.deepEqual(signedHeaders(signatures), [expected, expected]);
  for (const name of DEFAULT_SIGNED_HEADERS) assert.doesNotMatch(name, /^(return-path|received|bcc|x-ses-.*)$/i);
});

test('signTime sets t=, and a stream gives the same signatures as a buffer', async () => {
  const signTime = new Date('2026-11-23T10:00:00Z');
  const fromBuffer = await signMessage(message, signers, { signTime });
  assert.equal(fromBuffer.match(/\bt=1795428000;/g)?.length, 2);
  const chunks = [message.subarray(0, 7), message.subarray(7, 200), message.subarray(200)];
  assert.equal(await signMessage(Readable.from(chunks), signers, { signTime }), fromBuffer);
});

test('the blank line ending the header is found wherever the chunks split it, and in one-byte chunks', async () => {
  const signTime = new Date('2026-11-23T10:00:00Z');
  const whole = await signMessage(message, signers, { signTime });
  const blank = message.indexOf('\r\n\r\n');
  for (let cut = blank - 2; cut <= blank + 5; cut++) {
    assert.equal(await signMessage([message.subarray(0, cut), message.subarray(cut)], signers, { signTime }), whole, `split at ${cut - blank} from the blank line`);
  }
  const bytes = Array.from({ length: message.length }, (_, index) => message.subarray(index, index + 1));
  assert.equal(await signMessage(Readable.from(bytes), signers, { signTime }), whole);
});

test('a custom header list is used, and unsignable headers are refused', async () => {
  const signatures = await signMessage(message, signers.slice(0, 1), { headerList: ['From', 'Subject'] });
  assert.deepEqual(signedHeaders(signatures), [['subject', 'from']]);
  await assert.rejects(signMessage(message, signers, { headerList: ['From', 'X-SES-CONFIGURATION-SET'] }), /X-SES-CONFIGURATION-SET must not be DKIM-signed/);
  await assert.rejects(signMessage(message, signers, { headerList: ['Subject'] }), /must include From/);
});

test('signer mistakes are reported before signing', async () => {
  const withKey = (key: DkimKey, algorithm: DkimSigner['algorithm']): DkimSigner[] => [{ domain: 'example.com', selector: 's1', privateKeyPem: key.privateKeyPem, algorithm }];
  await assert.rejects(signMessage(message, withKey(edKey, 'rsa-sha256')), /is a ed25519-sha256 key but rsa-sha256 was requested/);
  await assert.rejects(signMessage(message, [{ ...signers[0], privateKeyPem: 'nope' }]), /not PEM/);
  await assert.rejects(signMessage(message, [{ ...signers[0], selector: 'x; h=From' }]), /DKIM selector "x; h=From" is not valid/);
  assert.equal(await signMessage(message, []), '');
  await assert.rejects(signMessage(Buffer.from('From: a@example.com\r\nSubject: no blank line'), signers), /no header section ending in a blank line/);
});
