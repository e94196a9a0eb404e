import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolAvailable } from '../support/external-tools.js';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { startPostfixRelayClient } from '../support/postfix-instance.js';
import { provisionCredential } from '../support/provision.js';
import { createTestCertificate } from '../support/test-certificate.js';
import { waitUntil } from '../support/wait-until.js';

const available = toolAvailable('openssl');
const postfixAvailable = toolAvailable('postfix') && toolAvailable('postmap');

interface Handshake {
  /** "New" or "Reused". */
  session: string;
  protocol: string;
  /** SHA-256 fingerprint of the server's certificate (on a resumed session, the one of the session). */
  certificate: string | null;
  output: string;
}

/** Clients that can only verify RSA signatures: by signature algorithms (TLS 1.3 and 1.2), or by cipher suite (TLS 1.2). */
const RSA_ONLY = { sigalgs: ['-sigalgs', 'RSA-PSS+SHA256:RSA+SHA256'], cipher: ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256'] };

type Listener = 'starttls' | 'tls' | 'https';

/**
 * One `openssl s_client` session: the SMTP dialog ends with QUIT, the HTTPS one with a request. Standard input stays open
 * until the server closes, so a TLS 1.3 ticket (sent after the handshake) is read before s_client exits.
 */
function sClient(listener: Listener, port: number, args: string[]): Promise<Handshake> {
  // -nocommands: a line starting with Q (QUIT) is sent, not taken as s_client's own command to close the connection.
  const child = spawn('openssl', ['s_client', '-nocommands', '-connect', `127.0.0.1:${port}`, ...(listener === 'starttls' ? ['-starttls', 'smtp'] : []), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.on('error', () => undefined);
  child.stdin.write(listener === 'https' ? 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' : 'QUIT\r\n');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`openssl s_client ${args.join(' ')} did not finish within 15 s: ${output}`));
    }, 15_000);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const session = /^(New|Reused), (TLSv1\.[0-3])/m.exec(output);
      if (!session) return reject(new Error(`no TLS session in the s_client output: ${output}`));
      const pem = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(output)?.[0];
      resolve({ session: session[1]!, protocol: session[2]!, certificate: pem ? new X509Certificate(pem).fingerprint256 : null, output });
    });
  });
}

/** A full handshake keeping its session in a file, then one offering it back. */
async function resumed(listener: Listener, port: number, args: string[]): Promise<[Handshake, Handshake]> {
  const file = join(tempDir('relaygate-session-'), 'session.pem');
  const first = await sClient(listener, port, [...args, '-sess_out', file]);
  return [first, await sClient(listener, port, [...args, '-sess_in', file])];
}

const fingerprintOf = (path: string) => new X509Certificate(readFileSync(path)).fingerprint256;

describe('self-signed ECDSA and RSA certificates, session resumption on every listener', { skip: !available }, () => {
  let gateway: GatewayProcess;
  let ports: Record<Listener, number>;
  let ecdsa: string;
  let rsa: string;

  before(async () => {
    gateway = await startGatewayProcess({ config: { smtp: { workers: 2 }, http: { listeners: ['127.0.0.1:0=https'], metricsListen: '127.0.0.1:0' } } });
    ports = { starttls: gateway.starttlsPorts[0]!, tls: gateway.tlsPorts[0]!, https: gateway.httpPorts[0]! };
    ecdsa = fingerprintOf(join(gateway.dataDir, 'tls', 'self-signed-ecdsa.crt'));
    rsa = fingerprintOf(join(gateway.dataDir, 'tls', 'self-signed.crt'));
  });
  after(() => gateway.stop());

  for (const listener of ['starttls', 'tls', 'https'] as const) {
    test(`${listener}: a client that can verify ECDSA gets the ECDSA certificate, an RSA-only client the RSA one`, async () => {
      assert.equal((await sClient(listener, ports[listener], [])).certificate, ecdsa);
      assert.equal((await sClient(listener, ports[listener], ['-tls1_2'])).certificate, ecdsa);
      const bySigalgs = await sClient(listener, ports[listener], RSA_ONLY.sigalgs);
      assert.deepEqual([bySigalgs.protocol, bySigalgs.certificate], ['TLSv1.3', rsa]);
      const byCipher = await sClient(listener, ports[listener], RSA_ONLY.cipher);
      assert.deepEqual([byCipher.protocol, byCipher.certificate], ['TLSv1.2', rsa]);
    });

    for (const [name, args] of [
      ['TLS 1.3 ticket', ['-tls1_3']],
      ['TLS 1.2 ticket', ['-tls1_2']],
      ['TLS 1.2 session id', ['-tls1_2', '-no_ticket']],
    ] as const) {
      test(`${listener}: a client resumes its session by ${name}`, async () => {
        const [first, second] = await resumed(listener, ports[listener], [...args]);
        assert.deepEqual([first.session, second.session, second.protocol], ['New', 'Reused', first.protocol], second.output);
      });
    }
  }

  test('a TLS 1.2 session id resumes whichever session worker takes the connection', async () => {
    // Each of the two workers accepts connections itself: eight resumptions land on the worker that made the session
    // and on the other one, all but surely both.
    const file = join(tempDir('relaygate-session-'), 'session.pem');
    const args = ['-tls1_2', '-no_ticket'];
    assert.equal((await sClient('starttls', ports.starttls, [...args, '-sess_out', file])).session, 'New');
    for (let attempt = 1; attempt <= 8; attempt++) {
      const again = await sClient('starttls', ports.starttls, [...args, '-sess_in', file]);
      assert.equal(again.session, 'Reused', `resumption ${attempt}: ${again.output}`);
    }
  });

  test('sessions made before a SIGHUP reload resume after it (the ticket keys stay), and a full handshake still works', async () => {
    const file13 = join(tempDir('relaygate-session-'), 'tls13.pem');
    const file12 = join(tempDir('relaygate-session-'), 'tls12.pem');
    assert.equal((await sClient('starttls', ports.starttls, ['-tls1_3', '-sess_out', file13])).session, 'New');
    assert.equal((await sClient('tls', ports.tls, ['-tls1_2', '-no_ticket', '-sess_out', file12])).session, 'New');
    const reloads = () => gateway.logs.filter((record) => record.msg === 'TLS certificates reloaded').length;
    const before = reloads();
    gateway.child.kill('SIGHUP');
    await waitUntil(() => reloads() > before, 'the SIGHUP reload');
    assert.equal((await sClient('starttls', ports.starttls, ['-tls1_3', '-sess_in', file13])).session, 'Reused');
    assert.equal((await sClient('tls', ports.tls, ['-tls1_2', '-no_ticket', '-sess_in', file12])).session, 'Reused');
    const fresh = await sClient('starttls', ports.starttls, []);
    assert.deepEqual([fresh.session, fresh.certificate], ['New', ecdsa]);
  });
});

describe('configured ECDSA and RSA certificate files, and an ECDSA certificate for an SNI name', { skip: !available }, () => {
  let gateway: GatewayProcess;
  const pairs: Record<string, { certFile: string; keyFile: string; fingerprint: string }> = {};

  before(async () => {
    const directory = tempDir('relaygate-certs-');
    for (const [name, host, keyType] of [
      ['mainEc', 'relay-a.test', 'ec'],
      ['mainRsa', 'relay-a.test', 'rsa'],
      ['named', 'relay-b.test', 'ec'],
    ] as const) {
      const certificate = await createTestCertificate([host], keyType);
      writeFileSync(join(directory, `${name}.crt`), certificate.cert);
      writeFileSync(join(directory, `${name}.key`), certificate.key);
      pairs[name] = { certFile: join(directory, `${name}.crt`), keyFile: join(directory, `${name}.key`), fingerprint: new X509Certificate(certificate.cert).fingerprint256 };
    }
    const { mainEc, mainRsa, named } = pairs;
    gateway = await startGatewayProcess({
      config: {
        tls: {
          certFile: mainEc!.certFile,
          keyFile: mainEc!.keyFile,
          rsaCertFile: mainRsa!.certFile,
          rsaKeyFile: mainRsa!.keyFile,
          sni: { 'relay-b.test': { certFile: named!.certFile, keyFile: named!.keyFile } },
        },
      },
    });
  });
  after(() => gateway.stop());

  for (const listener of ['starttls', 'tls'] as const) {
    test(`${listener}: ECDSA or RSA by the client's algorithms; the SNI name's certificate, with the default RSA one for RSA-only clients`, async () => {
      const port = listener === 'starttls' ? gateway.starttlsPorts[0]! : gateway.tlsPorts[0]!;
      const presented = async (args: string[]) => (await sClient(listener, port, args)).certificate;
      assert.equal(await presented([]), pairs.mainEc!.fingerprint);
      assert.equal(await presented(RSA_ONLY.sigalgs), pairs.mainRsa!.fingerprint);
      assert.equal(await presented(RSA_ONLY.cipher), pairs.mainRsa!.fingerprint);
      assert.equal(await presented(['-servername', 'relay-b.test']), pairs.named!.fingerprint);
      assert.equal(await presented(['-servername', 'relay-b.test', '-tls1_2']), pairs.named!.fingerprint);
      assert.equal(await presented(['-servername', 'relay-b.test', ...RSA_ONLY.sigalgs]), pairs.mainRsa!.fingerprint);
    });
  }
});

test('a real Postfix relayhost with smtp_tls_session_cache_database resumes its session on the next connection', { skip: !postfixAvailable }, async () => {
  const gateway = await startGatewayProcess({ listen: ['127.0.0.1:0=starttls'] });
  const credential = await provisionCredential(gateway.dataDir);
  const workDir = tempDir('relaygate-postfix-');
  const postfix = await startPostfixRelayClient(workDir, gateway.starttlsPorts[0]!, credential.user, credential.password, [
    `smtp_tls_session_cache_database = btree:${join(workDir, 'postfix-data', 'smtp_scache')}`,
    // Level 2 logs the session cache: "Reusing old session".
    'smtp_tls_loglevel = 2',
    // One connection per message, so that each delivery makes a TLS handshake.
    'smtp_connection_cache_on_demand = no',
  ]);
  try {
    const sent = () => postfix.log().match(/status=sent \(250 Ok /g)?.length ?? 0;
    for (const count of [1, 2]) {
      await postfix.sendmail('sender@example.com', 'recipient@example.com', `Subject: resumption ${count}\n\nbody ${count}\n`);
      await postfix.flush();
      await waitUntil(() => sent() === count, `delivery ${count} through Postfix`, 30_000, 100);
    }
    const log = postfix.log();
    // The first connection makes a full handshake (the server signs it) and saves the session; the second resumes it.
    assert.equal(log.match(/: Reusing old session$/gm)?.length, 1, log);
    assert.equal(log.match(/TLS connection established to .*: TLSv1\.3 with cipher .* server-digest SHA256$/gm)?.length, 1, log);
  } finally {
    await postfix.stop();
    await gateway.stop();
  }
});
