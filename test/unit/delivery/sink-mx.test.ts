import assert from 'node:assert/strict';
import test from 'node:test';
import SMTPConnection, { type SMTPConnectionOptions, type SMTPEnvelope } from 'nodemailer/lib/smtp-connection';
import { startSinkMx, type SinkMx } from '../../support/sink-mx.js';

const MESSAGE = 'Subject: hello\r\n\r\nfirst line\r\n.starts with a dot\r\n';

async function connect(sink: SinkMx, options: SMTPConnectionOptions = {}): Promise<SMTPConnection> {
  const connection = new SMTPConnection({ host: sink.host, port: sink.port, ...options });
  await new Promise<void>((resolve, reject) => {
    connection.once('error', reject);
    connection.connect(() => {
      connection.off('error', reject);
      // Failures after the handshake also reach the pending command's callback, which is where tests look.
      connection.on('error', () => undefined);
      resolve();
    });
  });
  return connection;
}

function send(connection: SMTPConnection, envelope: SMTPEnvelope, message: string) {
  return new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
    connection.send(envelope, message, (error, info) => (error ? reject(error) : resolve(info!))),
  );
}

function reset(connection: SMTPConnection): Promise<void> {
  return new Promise((resolve, reject) => connection.reset((error) => (error ? reject(error) : resolve())));
}

test('records messages received over STARTTLS with the certificate names it was given', async (t) => {
  const sink = await startSinkMx({ host: '127.0.0.2', tlsNames: ['mx.sink.test'] });
  t.after(() => sink.close());
  const connection = await connect(sink, {
    requireTLS: true,
    servername: 'mx.sink.test',
    tls: { ca: sink.certificate!, rejectUnauthorized: true },
  });
  const before = Date.now();
  await send(connection, { from: 'sender@example.com', to: ['a@example.net', 'b@example.net'] }, MESSAGE);
  await reset(connection);
  await send(connection, { from: '', to: ['c@example.net'] }, MESSAGE);
  connection.quit();

  const [first, second] = await sink.waitForMessages(2, 2000);
  assert.ok(first && second);
  assert.equal(first.raw.toString(), MESSAGE);
  assert.equal(first.mailFrom, 'sender@example.com');
  assert.deepEqual(first.rcptTo, ['a@example.net', 'b@example.net']);
  assert.equal(first.remoteAddress, '127.0.0.1');
  assert.equal(first.secure, true);
  assert.equal(first.servername, 'mx.sink.test');
  assert.ok(first.receivedAt >= before && second.receivedAt >= first.receivedAt);
  assert.equal(second.mailFrom, '');
  assert.deepEqual(sink.connections.perConnectionMessageCounts, [2]);
  assert.equal(sink.connections.opened, 1);
});

test('replies exactly what the behaviour says, per RCPT and per DATA', async (t) => {
  const sink = await startSinkMx({
    host: '127.0.0.3',
    starttls: false,
    behaviour: (ctx) => {
      if (ctx.stage === 'RCPT') return ctx.recipient.startsWith('unknown@') ? '550 5.1.1 User unknown' : 'accept';
      return ctx.raw.includes('greylist') ? '451 4.7.1 Try again later' : '250 2.0.0 Ok: queued as X1';
    },
  });
  t.after(() => sink.close());
  const connection = await connect(sink);
  t.after(() => connection.close());

  const info = await send(connection, { from: 's@example.com', to: ['ok@example.net', 'unknown@example.net'] }, MESSAGE);
  assert.deepEqual(info.rejected, ['unknown@example.net']);
  assert.equal(info.rejectedErrors?.[0]?.response, '550 5.1.1 User unknown');
  assert.equal(info.response, '250 2.0.0 Ok: queued as X1');
  assert.equal(sink.messages[0]?.secure, false);
  assert.deepEqual(sink.messages[0]?.rcptTo, ['ok@example.net']);

  await reset(connection);
  await assert.rejects(send(connection, { from: 's@example.com', to: ['ok@example.net'] }, 'Subject: greylist\r\n\r\n'), {
    response: '451 4.7.1 Try again later',
    responseCode: 451,
  });
  assert.equal(sink.messages.length, 1);
});

test('delays replies and drops connections on request', async (t) => {
  const sink = await startSinkMx({ host: '127.0.0.2', starttls: false, behaviour: () => ({ delayMs: 150 }) });
  t.after(() => sink.close());
  const connection = await connect(sink);
  const started = Date.now();
  await send(connection, { from: 's@example.com', to: ['a@example.net'] }, MESSAGE);
  assert.ok(Date.now() - started >= 2 * 150, 'RCPT and DATA are both delayed');

  sink.setBehaviour((ctx) => (ctx.stage === 'DATA' ? 'disconnect' : 'accept'));
  await reset(connection);
  await assert.rejects(send(connection, { from: 's@example.com', to: ['a@example.net'] }, MESSAGE));
  assert.equal(sink.messages.length, 1);
});

test('tracks concurrent connections and turns away those beyond maxConnections', async (t) => {
  const sink = await startSinkMx({ host: '127.0.0.2', starttls: false, maxConnections: 1 });
  t.after(() => sink.close());
  const first = await connect(sink);
  t.after(() => first.close());
  await assert.rejects(connect(sink), { responseCode: 421 });
  assert.equal(sink.connections.opened, 2);
  assert.equal(sink.connections.maxConcurrent, 2);
  assert.deepEqual(sink.connections.perConnectionMessageCounts, [0, 0]);
});

test('waitForMessages times out with a count of what arrived', async (t) => {
  const sink = await startSinkMx({ host: '127.0.0.2', starttls: false });
  t.after(() => sink.close());
  await assert.rejects(sink.waitForMessages(1, 50), /got 0 of 1 messages in 50 ms/);
});

test('offers 8BITMIME unless told it is a 7-bit-only MX', async (t) => {
  const modern = await startSinkMx({ host: '127.0.0.2', starttls: false });
  const old = await startSinkMx({ host: '127.0.0.3', starttls: false, eightBitMime: false });
  t.after(() => Promise.all([modern.close(), old.close()]));
  const offers = async (sink: SinkMx) => {
    const connection = await connect(sink);
    // nodemailer records the EHLO extensions without declaring the field.
    const extensions = (connection as unknown as { _supportedExtensions: string[] })._supportedExtensions;
    connection.close();
    return extensions.includes('8BITMIME');
  };
  assert.deepEqual([await offers(modern), await offers(old)], [true, false]);
});
