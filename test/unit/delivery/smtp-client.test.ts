import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { SmtpClient } from '../../../src/delivery/smtp-client.js';

/**
 * A plain-text MX on loopback that records every command line it reads (not the message lines): 550 for a recipient
 * whose local part is "refused", 554 to DATA without an accepted recipient.
 */
async function startRecordingMx(): Promise<{ server: Server; port: number; commands: string[] }> {
  const commands: string[] = [];
  const server = createServer((socket) => {
    let pending = '';
    let inData = false;
    let recipients = 0;
    socket.write('220 mx.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n'); end >= 0; end = pending.indexOf('\r\n')) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            recipients = 0;
            socket.write('250 2.0.0 queued\r\n');
          }
          continue;
        }
        commands.push(line);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-mx.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 1000000\r\n');
        else if (verb === 'MAIL') socket.write('250 2.1.0 ok\r\n');
        else if (verb === 'RCPT') {
          const refused = line.includes('<refused@');
          if (!refused) recipients++;
          socket.write(refused ? '550 5.1.1 no such user\r\n' : '250 2.1.5 ok\r\n');
        } else if (verb === 'DATA') {
          inData = recipients > 0;
          socket.write(inData ? '354 go ahead\r\n' : '554 5.5.1 no valid recipients\r\n');
        } else if (verb === 'RSET') {
          recipients = 0;
          socket.write('250 2.0.0 reset\r\n');
        } else if (verb === 'QUIT') socket.end('221 2.0.0 bye\r\n');
        else socket.write('502 5.5.2 unknown\r\n');
      }
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, commands };
}

const message = () => Readable.from([Buffer.from('Subject: t\r\n\r\nbody\r\n')]);
const envelope = (to: string) => ({ from: 'sender@source.test', to: [to], size: 22 });

test('a session carries transactions back to back: no RSET after one the server took, RSET after one it refused', async (t) => {
  const mx = await startRecordingMx();
  t.after(() => mx.server.close());
  const client = await SmtpClient.connect({
    host: '127.0.0.1',
    port: mx.port,
    servername: 'mx.test',
    ehloName: 'relay.test',
    tls: 'opportunistic',
    connectTimeoutMs: 5000,
    greetingTimeoutMs: 5000,
    dataTimeoutMs: 5000,
  });
  const first = await client.send(envelope('one@dest.test'), message());
  assert.deepEqual(first.accepted, ['one@dest.test']);
  await client.readyForNextTransaction();
  await assert.rejects(client.send(envelope('refused@dest.test'), message()), { responseCode: 550 });
  await client.readyForNextTransaction();
  const third = await client.send(envelope('three@dest.test'), message());
  assert.deepEqual(third.accepted, ['three@dest.test']);
  await client.readyForNextTransaction();
  await client.quit();
  assert.deepEqual(mx.commands, [
    'EHLO relay.test',
    'MAIL FROM:<sender@source.test> BODY=8BITMIME SIZE=22',
    'RCPT TO:<one@dest.test>',
    'DATA',
    'MAIL FROM:<sender@source.test> BODY=8BITMIME SIZE=22',
    'RCPT TO:<refused@dest.test>',
    'DATA',
    'RSET',
    'MAIL FROM:<sender@source.test> BODY=8BITMIME SIZE=22',
    'RCPT TO:<three@dest.test>',
    'DATA',
    'QUIT',
  ]);
});
