import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { isAscii } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { dkimRecordName, dkimTxtRecord, generateDkimKey } from '../../src/message/dkim/index.js';
import { SqliteQueueStore } from '../../src/queue/sqlite-queue-store.js';
import { startDnsServer, type TestDnsServer } from '../support/dns-server.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { startEngine, type EngineHarness } from '../support/engine-harness.js';
import { decodedParts, unsendableLines } from '../support/mime-content.js';
import { provisionCredential, type TestCredential } from '../support/provision.js';
import type { SinkMx } from '../support/sink-mx.js';
import { startSinks, testDeliveryConfig, waitForFinal } from '../support/delivery-fixture.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const gatewayKey = generateDkimKey('rsa-2048');
const KEY_RECORD = dkimRecordName('gw', 'relay.test');

/** The zone both suites use: old.test's MX does not offer 8BITMIME, new.test's does. */
const ZONE = {
  'old.test': { MX: [{ exchange: 'mx.old.test', priority: 10 }] },
  'mx.old.test': { A: ['127.0.0.2'] },
  'new.test': { MX: [{ exchange: 'mx.new.test', priority: 10 }] },
  'mx.new.test': { A: ['127.0.0.3'] },
};

async function verifyDkim(raw: Buffer): Promise<string[]> {
  const resolver = async (name: string) => {
    if (name !== KEY_RECORD) throw Object.assign(new Error(`queryTxt ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return [[dkimTxtRecord(gatewayKey)]];
  };
  const { results } = await dkimVerify(raw, { resolver });
  return results.map((result) => `${result.signingDomain} ${result.status.result}`);
}

const lines = (...text: string[]) => Buffer.from(text.join('\r\n'), 'latin1');
const utf8 = (text: string) => Buffer.from(text, 'utf8').toString('latin1');

/** Sends `raw` (dot-stuffed on the way) in one transaction and returns the reply to the end of data. */
async function submitRaw(gateway: GatewayProcess, credential: TestCredential, to: string[], raw: Buffer): Promise<string> {
  const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
  try {
    await dialog.reply();
    await dialog.ehlo();
    assert.equal(await dialog.authPlain(credential.user, credential.password), '235 Authentication successful');
    assert.equal(await dialog.command('MAIL FROM:<sender@example.com>'), '250 Ok');
    for (const recipient of to) assert.equal(await dialog.command(`RCPT TO:<${recipient}>`), '250 Ok');
    assert.match(await dialog.command('DATA'), /^354 /);
    dialog.write(Buffer.from(raw.toString('latin1').replace(/^\./gm, '..'), 'latin1'));
    dialog.write(raw.subarray(-2).toString() === '\r\n' ? '.\r\n' : '\r\n.\r\n');
    const reply = await dialog.line();
    assert.equal(await dialog.command('QUIT'), '221 Bye');
    return reply;
  } finally {
    dialog.close();
  }
}

/** The message a sink received for the gateway's message id (delivered already: wait for it first). */
function received(sink: SinkMx, id: string): Buffer {
  const message = sink.messages.find((candidate) => candidate.raw.includes(`<${id}@relaygate.test>`));
  assert.ok(message, `${sink.host} has no message ${id}`);
  return message.raw;
}

const messageId = (reply: string) => {
  const id = /^250 Ok (\S+)$/.exec(reply)?.[1];
  assert.ok(id, reply);
  return id;
};

describe('what leaves the gateway is clean: NUL refused, 8-bit data and long lines re-encoded before signing', () => {
  let dns: TestDnsServer;
  let sinks: Record<string, SinkMx>;
  let gateway: GatewayProcess;
  let credential: TestCredential;

  before(async () => {
    const started = await startSinks([
      { host: '127.0.0.2', starttls: false, eightBitMime: false },
      { host: '127.0.0.3', starttls: false },
    ]);
    sinks = Object.fromEntries(started.map((sink) => [sink.host, sink]));
    dns = await startDnsServer(ZONE);
    const keyFile = join(tempDir(), 'gateway-dkim.key');
    writeFileSync(keyFile, gatewayKey.privateKeyPem);
    gateway = await startGatewayProcess({
      config: { smtp: { hostname: 'relaygate.test' }, ...testDeliveryConfig(dns, started[0]!.port, { dkim: { domain: 'relay.test', selector: 'gw', keyFile } }) },
    });
    credential = await provisionCredential(gateway.dataDir);
  });
  after(async () => {
    await gateway.stop();
    await Promise.all([...Object.values(sinks).map((sink) => sink.close()), dns.close()]);
  });

  test('a NUL byte in DATA: 554 and nothing queued, so no next hop that strips NUL can read an end of data and a second transaction out of it', async () => {
    const smuggled = lines('From: Sender <sender@example.com>', 'To: one@old.test', 'Subject: nul', '', 'first', '\0.', 'MAIL FROM:<evil@example.com>', 'RCPT TO:<victim@new.test>', 'DATA', 'smuggled', '');
    assert.equal(await submitRaw(gateway, credential, ['one@old.test'], smuggled), '554 Transaction failed: The message contains a NUL character.');
    const nulInHeader = lines('From: Sender <sender@example.com>', 'To: one@old.test', 'Subject: a\0b', '', 'body', '');
    assert.equal(await submitRaw(gateway, credential, ['one@old.test'], nulInHeader), '554 Transaction failed: The message contains a NUL character.');
    const queue = SqliteQueueStore.open(gateway.dataDir);
    try {
      assert.deepEqual(queue.list(), []);
    } finally {
      queue.close();
    }
  });

  test('header fields: 8-bit bytes are refused (SES asks for RFC 2047 encoded-words); a long line is folded, one that cannot be is refused', async () => {
    const eightBit = lines('From: Sender <sender@example.com>', 'To: one@old.test', `Subject: ${utf8('Grüße')}`, '', 'body', '');
    assert.equal(await submitRaw(gateway, credential, ['one@old.test'], eightBit), '554 Transaction failed: There are non-ASCII characters in a header field.');
    const eightBitPartHeader = lines(
      'From: Sender <sender@example.com>',
      'To: one@old.test',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="b"',
      '',
      '--b',
      `Content-Type: text/plain; name="${utf8('résumé.txt')}"`,
      '',
      `${utf8('8-bit text, so the part is re-encoded: ü')}`,
      '--b--',
      '',
    );
    assert.equal(await submitRaw(gateway, credential, ['one@old.test'], eightBitPartHeader), '554 Transaction failed: There are non-ASCII characters in a header field.');
    const unfoldable = lines('From: Sender <sender@example.com>', 'To: one@old.test', `X-Token: ${'t'.repeat(1200)}`, '', 'body', '');
    assert.equal(await submitRaw(gateway, credential, ['one@old.test'], unfoldable), '554 Transaction failed: A header line is longer than 998 characters and cannot be folded.');

    const subject = Array.from({ length: 150 }, (_, index) => `word${index}`).join(' ');
    const id = messageId(await submitRaw(gateway, credential, ['folded@old.test'], lines('From: Sender <sender@example.com>', 'To: folded@old.test', `Subject: ${subject}`, '', 'body', '')));
    assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered');
    const raw = received(sinks['127.0.0.2']!, id);
    assert.deepEqual(unsendableLines(raw), []);
    const folded = /^Subject: (.*(?:\r\n[ \t].*)*)\r\n/m.exec(raw.toString('latin1'))?.[1];
    assert.equal(folded?.replace(/\r\n/g, ''), subject, 'unfolding gives the subject back');
    assert.deepEqual(await verifyDkim(raw), ['relay.test pass']);
  });

  test('a MIME message with 8-bit parts and long lines arrives 7-bit with short lines at an MX without 8BITMIME, DKIM-valid, meaning the same', async () => {
    // An 8bit part may hold any byte but NUL, and CR and LF only as CRLF (RFC 2045 2.8).
    const binary = Buffer.concat(
      Array.from({ length: 50 }, (_, line) => Buffer.from([...Array.from({ length: 60 }, (_, i) => 1 + ((line * 60 + i) % 255)).filter((byte) => byte !== 0x0a && byte !== 0x0d), 0x0d, 0x0a])),
    );
    const original = Buffer.concat([
      lines(
        'From: Sender <sender@example.com>',
        'To: one@old.test, two@new.test',
        'Subject: every kind of part',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="outer"',
        '',
        'This is a multi-part message in MIME format.',
        '--outer',
        'Content-Type: multipart/alternative; boundary="alt"',
        '',
        '--alt',
        'Content-Type: text/plain; charset=utf-8',
        'Content-Transfer-Encoding: 8bit',
        '',
        utf8('Grüße aus Köln, naïve café.'),
        `${'word '.repeat(400)}end`,
        'a line ending in spaces   ',
        '.a line starting with a dot',
        '--alt',
        'Content-Type: text/html; charset=utf-8',
        '',
        `<html><body>${'<p class="x">paragraph</p>'.repeat(100)}</body></html>`,
        '--alt--',
        '',
        '--outer',
        'Content-Type: application/octet-stream; name="data.bin"',
        'Content-Disposition: attachment; filename="data.bin"',
        'Content-Transfer-Encoding: 8bit',
        '',
        '',
      ),
      binary,
      lines(
        '',
        '--outer',
        'Content-Type: application/pdf; name="doc.pdf"',
        'Content-Transfer-Encoding: base64',
        '',
        randomBytes(3000).toString('base64'),
        '--outer',
        'Content-Type: text/plain; charset=iso-8859-1',
        'Content-Transfer-Encoding: quoted-printable',
        '',
        `caf=E9 and a raw \xe9, ${'long quoted-printable line '.repeat(50)}=`,
        'soft-broken',
        '--outer',
        'Content-Type: message/rfc822',
        'Content-Disposition: attachment; filename="forwarded.eml"',
        '',
        'From: someone@example.org',
        'Subject: forwarded',
        'Content-Type: text/plain; charset=utf-8',
        '',
        utf8('ünïcödé in a forwarded message'),
        '--outer--',
        '',
      ),
    ]);
    const id = messageId(await submitRaw(gateway, credential, ['one@old.test', 'two@new.test'], original));
    assert.deepEqual(
      (await waitForFinal(gateway.dataDir, id)).deliveries.map((delivery) => delivery.state),
      ['delivered', 'delivered'],
    );
    const atOld = received(sinks['127.0.0.2']!, id);
    const atNew = received(sinks['127.0.0.3']!, id);

    assert.ok(isAscii(atOld), 'no 8-bit byte reaches the MX without 8BITMIME');
    assert.deepEqual(unsendableLines(atOld), [], 'no line over 998 bytes, no bare CR or LF');
    assert.deepEqual(await verifyDkim(atOld), ['relay.test pass']);
    assert.ok(atNew.equals(atOld), 'every hop gets the same signed bytes, 8BITMIME or not');
    assert.deepEqual(await decodedParts(atOld), await decodedParts(original), 'every part decodes to what the client sent');

    const text = atOld.toString('latin1');
    assert.match(text, /\r\nContent-Type: text\/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nGr=C3=BC=C3=9Fe aus K=C3=B6ln/);
    assert.match(text, /\r\nContent-Type: application\/octet-stream; name="data\.bin"\r\nContent-Disposition: attachment; filename="data\.bin"\r\nContent-Transfer-Encoding: base64\r\n/);
  });

  test('a plain (non-MIME) message with 8-bit text gains MIME-Version and quoted-printable, and decodes to what was sent', async () => {
    const body = `${utf8('Zürich')} ${'x'.repeat(1500)}\r\nsecond line\r\n`;
    const original = lines('From: Sender <sender@example.com>', 'To: plain@old.test', 'Subject: plain', '', body);
    const id = messageId(await submitRaw(gateway, credential, ['plain@old.test'], original));
    assert.equal((await waitForFinal(gateway.dataDir, id)).deliveries[0]!.state, 'delivered');
    const raw = received(sinks['127.0.0.2']!, id);
    assert.ok(isAscii(raw));
    assert.deepEqual(unsendableLines(raw), []);
    assert.deepEqual(await verifyDkim(raw), ['relay.test pass']);
    assert.match(raw.toString('latin1'), /\r\nMIME-Version: 1\.0\r\n/);
    assert.match(raw.toString('latin1'), /\r\nContent-Transfer-Encoding: quoted-printable\r\n/);
    assert.deepEqual(await decodedParts(raw), [{ contentType: 'text/plain', content: Buffer.from(body, 'latin1') }]);
  });
});

describe('the next hop: 8-bit data never goes to an MX that does not offer 8BITMIME', () => {
  let dns: TestDnsServer;
  let sinks: Record<string, SinkMx>;
  let harness: EngineHarness;

  before(async () => {
    const started = await startSinks([
      { host: '127.0.0.2', starttls: false, eightBitMime: false },
      { host: '127.0.0.3', starttls: false },
    ]);
    sinks = Object.fromEntries(started.map((sink) => [sink.host, sink]));
    dns = await startDnsServer(ZONE);
    harness = await startEngine({ config: testDeliveryConfig(dns, started[0]!.port, { retry: { firstDelaySeconds: 1, maxDelaySeconds: 2 } }) });
  });
  after(async () => {
    await harness.stop();
    await Promise.all([...Object.values(sinks).map((sink) => sink.close()), dns.close()]);
  });

  // Queued straight into the store, as a message accepted before re-encoding existed would be.
  test('an 8-bit queued body bounces at the MX without 8BITMIME (the transaction is abandoned before its end) and is delivered where 8BITMIME is offered', async () => {
    const id = await harness.accept({ to: ['one@old.test', 'two@new.test'], body: 'caf\u00e9\r\n' });
    const details = await waitForFinal(harness.dataDir, id);
    assert.deepEqual(
      details.deliveries.map((delivery) => [delivery.recipient, delivery.state, delivery.bounceSubType, delivery.response]),
      [
        // The bounce rules' media-content class (RFC 3463 X.6.X), as SES reports content refusals.
        ['one@old.test', 'bounced', 'ContentRejected', '554 5.6.3 The message has 8-bit data and mx.old.test does not offer 8BITMIME (RFC 6152)'],
        ['two@new.test', 'delivered', null, '250 OK'],
      ],
    );
    assert.equal(sinks['127.0.0.2']!.messages.length, 0);
    assert.ok(received(sinks['127.0.0.3']!, id).includes(Buffer.from('caf\u00e9', 'utf8')), 'sent as it is where 8BITMIME is offered');
  });

  test('a queued line over 998 bytes goes to no MX', async () => {
    const id = await harness.accept({ to: ['long@new.test'], body: `${'y'.repeat(999)}\r\n` });
    const [delivery] = (await waitForFinal(harness.dataDir, id)).deliveries;
    assert.deepEqual([delivery!.state, delivery!.response], ['bounced', '554 5.6.0 The message cannot be sent as it is: a line is longer than 998 bytes (RFC 5321 4.5.3.1.6)']);
    assert.equal(sinks['127.0.0.3']!.messages.filter((message) => message.rcptTo.includes('long@new.test')).length, 0);
  });
});
