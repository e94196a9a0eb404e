import test from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import type { CertificateFiles, TlsConfig } from '../../../src/config/tls-options.js';
import { loadTlsMaterial, tlsServerOptions } from '../../../src/smtp/tls-material.js';
import { tempDir } from '../../support/gateway-process.js';
import { createTestCertificate } from '../../support/test-certificate.js';

const silent = pino({ level: 'silent' });
const noFiles: TlsConfig = { certificate: null, rsaCertificate: null, sni: {}, minVersion: 'TLSv1.2' };

function capturingLogger(): { log: Logger; records: Array<Record<string, unknown>> } {
  const records: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      records.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), records };
}

const publicKeyOf = (pem: string) => new X509Certificate(pem).publicKey;

test('without files: a self-signed ECDSA P-256 certificate and an RSA one, in <dataDir>/tls with mode 0600, kept across loads', async () => {
  const dataDir = tempDir();
  const { log, records } = capturingLogger();
  const material = await loadTlsMaterial(noFiles, dataDir, 'relay.example.net', log);
  assert.equal(material.selfSigned, true);
  assert.equal(material.cert.length, 2);
  assert.deepEqual(publicKeyOf(material.cert[0]!).asymmetricKeyDetails, { namedCurve: 'prime256v1' });
  assert.equal(publicKeyOf(material.cert[1]!).asymmetricKeyType, 'rsa');
  assert.deepEqual(
    material.key.map((pem) => createPrivateKey(pem).asymmetricKeyType),
    ['ec', 'rsa'],
  );
  assert.equal(new X509Certificate(material.cert[0]!).subjectAltName, 'DNS:relay.example.net, DNS:localhost, IP Address:127.0.0.1');
  for (const [name, pem] of [
    ['self-signed-ecdsa.crt', material.cert[0]],
    ['self-signed-ecdsa.key', material.key[0]],
    ['self-signed.crt', material.cert[1]],
    ['self-signed.key', material.key[1]],
  ] as const) {
    assert.equal(readFileSync(join(dataDir, 'tls', name), 'utf8'), pem);
    assert.equal(statSync(join(dataDir, 'tls', name)).mode & 0o777, 0o600, name);
  }
  assert.equal(records[0]!.level, 40);
  assert.deepEqual(records[0]!.certificates, [join(dataDir, 'tls', 'self-signed-ecdsa.crt'), join(dataDir, 'tls', 'self-signed.crt')]);

  const again = await loadTlsMaterial(noFiles, dataDir, 'relay.example.net', silent);
  assert.deepEqual([again.key, again.cert], [material.key, material.cert]);
});

test('a data directory with only the RSA self-signed certificate of earlier versions keeps it and gets an ECDSA one next to it', async () => {
  const dataDir = tempDir();
  const earlier = await createTestCertificate(['relay.example.net']);
  mkdirSync(join(dataDir, 'tls'), { mode: 0o700 });
  writeFileSync(join(dataDir, 'tls', 'self-signed.key'), earlier.key, { mode: 0o600 });
  writeFileSync(join(dataDir, 'tls', 'self-signed.crt'), earlier.cert, { mode: 0o600 });
  const material = await loadTlsMaterial(noFiles, dataDir, 'relay.example.net', silent);
  assert.deepEqual([material.key[1], material.cert[1]], [earlier.key, earlier.cert]);
  assert.equal(publicKeyOf(material.cert[0]!).asymmetricKeyType, 'ec');
  assert.equal(readFileSync(join(dataDir, 'tls', 'self-signed-ecdsa.crt'), 'utf8'), material.cert[0]);
});

async function writeCertificate(directory: string, name: string, keyType: 'rsa' | 'ec'): Promise<{ certFile: string; keyFile: string; cert: string; key: string }> {
  const certificate = await createTestCertificate([`${name}.example.net`], keyType);
  writeFileSync(join(directory, `${name}.crt`), certificate.cert);
  writeFileSync(join(directory, `${name}.key`), certificate.key);
  return { certFile: join(directory, `${name}.crt`), keyFile: join(directory, `${name}.key`), ...certificate };
}

const files = (certificate: { certFile: string; keyFile: string }) => ({ certFile: certificate.certFile, keyFile: certificate.keyFile });

test('configured files: the ECDSA certificate with its RSA companion, one per SNI name; nothing generated', async () => {
  const directory = tempDir();
  const dataDir = tempDir();
  const ec = await writeCertificate(directory, 'ec', 'ec');
  const rsa = await writeCertificate(directory, 'rsa', 'rsa');
  const named = await writeCertificate(directory, 'named', 'ec');
  const { log, records } = capturingLogger();
  const material = await loadTlsMaterial(
    { certificate: files(ec), rsaCertificate: files(rsa), sni: { 'named.example.net': files(named) }, minVersion: 'TLSv1.2' },
    dataDir,
    'relay.example.net',
    log,
  );
  assert.deepEqual({ key: material.key, cert: material.cert, selfSigned: material.selfSigned }, { key: [ec.key, rsa.key], cert: [ec.cert, rsa.cert], selfSigned: false });
  assert.deepEqual(material.sniOptions, new Map([['named.example.net', { key: [named.key], cert: [named.cert] }]]));
  assert.deepEqual(records, []);
  assert.throws(() => statSync(join(dataDir, 'tls')), { code: 'ENOENT' });
});

test('an RSA SNI certificate next to an ECDSA default is used, with a warning that ECDSA clients get the default under that name', async () => {
  const directory = tempDir();
  const rsa = await writeCertificate(directory, 'rsa', 'rsa');
  const { log, records } = capturingLogger();
  const material = await loadTlsMaterial({ ...noFiles, sni: { 'old.example.net': files(rsa) } }, tempDir(), 'relay.example.net', log);
  assert.deepEqual(material.sniOptions.get('old.example.net'), { key: [rsa.key], cert: [rsa.cert] });
  const warning = records.find((record) => record.sni === 'old.example.net');
  assert.equal(warning?.level, 40);
  assert.equal(
    warning?.msg,
    'tls.sni.old.example.net is an RSA certificate: clients that can verify ECDSA get the default ECDSA certificate under this name (Node puts an SNI certificate only in place of the default one of its key type); use an ECDSA certificate for it',
  );
  const { log: quiet, records: none } = capturingLogger();
  await loadTlsMaterial({ certificate: files(rsa), rsaCertificate: null, sni: { 'old.example.net': files(rsa) }, minVersion: 'TLSv1.2' }, tempDir(), 'relay.example.net', quiet);
  assert.deepEqual(none, [], 'no warning when the default is RSA only');
});

test('certificate files that cannot work together are refused, naming the option', async () => {
  const directory = tempDir();
  const ec = await writeCertificate(directory, 'ec', 'ec');
  const rsa = await writeCertificate(directory, 'rsa', 'rsa');
  const load = (certificate: CertificateFiles, rsaCertificate: CertificateFiles) =>
    loadTlsMaterial({ certificate, rsaCertificate, sni: {}, minVersion: 'TLSv1.2' }, tempDir(), 'relay.example.net', silent);
  await assert.rejects(load(files(rsa), files(rsa)), {
    name: 'ConfigError',
    message:
      'configuration option tls.keyFile: is an RSA key like tls.rsaKeyFile, and only one certificate per key type can be used: put the ECDSA certificate and key in tls.certFile and tls.keyFile',
  });
  await assert.rejects(load(files(ec), files(ec)), { name: 'ConfigError', message: 'configuration option tls.rsaKeyFile: is an ec key, not an RSA one' });
  const missing = join(directory, 'missing.key');
  await assert.rejects(load(files(ec), { certFile: rsa.certFile, keyFile: missing }), {
    name: 'ConfigError',
    message: `configuration option tls.rsaKeyFile: cannot read ${missing}: ENOENT: no such file or directory, open '${missing}'`,
  });
  await assert.rejects(load(files(ec), { certFile: rsa.certFile, keyFile: rsa.certFile }), (error: Error) => {
    assert.equal(error.name, 'ConfigError');
    assert.match(error.message, /^configuration option tls\.rsaKeyFile: not a usable private key: /);
    return true;
  });
});

test('ticket keys: 48 random bytes per load unless the current ones are passed on (a reload)', async () => {
  const dataDir = tempDir();
  const first = await loadTlsMaterial(noFiles, dataDir, 'relay.example.net', silent);
  const second = await loadTlsMaterial(noFiles, dataDir, 'relay.example.net', silent);
  assert.equal(first.ticketKeys.length, 48);
  assert.notDeepEqual(first.ticketKeys, second.ticketKeys);
  const reloaded = await loadTlsMaterial(noFiles, dataDir, 'relay.example.net', silent, first.ticketKeys);
  assert.equal(reloaded.ticketKeys, first.ticketKeys);
});

test('server options: ECDSA suites ahead of RSA ones in the server order, the shared ticket keys and session context, for SNI names too', async () => {
  const named = await writeCertificate(tempDir(), 'named', 'ec');
  const material = await loadTlsMaterial({ ...noFiles, sni: { 'named.example.net': files(named) } }, tempDir(), 'relay.example.net', silent);
  const options = tlsServerOptions(material);
  const suites = String(options.ciphers).split(':');
  assert.ok(suites.indexOf('ECDHE-ECDSA-AES128-GCM-SHA256') < suites.indexOf('ECDHE-RSA-AES128-GCM-SHA256'));
  assert.ok(suites.indexOf('ECDHE-ECDSA-AES256-GCM-SHA384') < suites.indexOf('ECDHE-RSA-AES128-GCM-SHA256'));
  assert.ok(suites.indexOf('TLS_AES_128_GCM_SHA256') < suites.indexOf('ECDHE-ECDSA-AES128-GCM-SHA256'));
  assert.equal(options.honorCipherOrder, true);
  assert.equal(options.ticketKeys, material.ticketKeys);
  const sni = options.sniOptions.get('named.example.net')!;
  assert.deepEqual([sni.cert, sni.ticketKeys, sni.sessionIdContext, sni.ciphers], [[named.cert], material.ticketKeys, options.sessionIdContext, options.ciphers]);
  assert.match(String(tlsServerOptions({ ...material, minVersion: 'TLSv1' }).ciphers), /:DEFAULT:@SECLEVEL=0$/);
});
