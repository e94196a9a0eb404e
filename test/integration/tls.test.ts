import test, { after, before, describe } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { createTestCertificate } from '../support/test-certificate.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

describe('certificates from files, SNI, reload on SIGHUP, minimum TLS version', () => {
  let gateway: GatewayProcess;
  let certDir: string;
  let first: { key: string; cert: string };
  let named: { key: string; cert: string };

  before(async () => {
    certDir = tempDir('relaygate-certs-');
    first = await createTestCertificate(['relay-a.test']);
    named = await createTestCertificate(['relay-b.test']);
    writeFileSync(join(certDir, 'a.key'), first.key);
    writeFileSync(join(certDir, 'a.crt'), first.cert);
    writeFileSync(join(certDir, 'b.key'), named.key);
    writeFileSync(join(certDir, 'b.crt'), named.cert);
    gateway = await startGatewayProcess({
      config: {
        tls: {
          certFile: join(certDir, 'a.crt'),
          keyFile: join(certDir, 'a.key'),
          sni: { 'relay-b.test': { certFile: join(certDir, 'b.crt'), keyFile: join(certDir, 'b.key') } },
        },
      },
    });
  });
  after(() => gateway.stop());

  test('the configured certificate is presented; no self-signed warning', async () => {
    const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    assert.equal(dialog.peerCertificateFingerprint, fingerprint(first.cert));
    dialog.close();
    assert.ok(!gateway.logs.some((record) => String(record.msg).startsWith('NO TLS CERTIFICATE CONFIGURED')));
  });

  test('SNI picks the mapped certificate, on implicit TLS and on STARTTLS', async () => {
    const implicit = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true, servername: 'relay-b.test' });
    assert.equal(implicit.peerCertificateFingerprint, fingerprint(named.cert));
    implicit.close();
    const upgraded = await SmtpDialog.open({ port: gateway.starttlsPorts[0]!, servername: 'relay-b.test' });
    await upgraded.reply();
    await upgraded.ehlo();
    assert.equal(await upgraded.startTls(), '220 Ready to start TLS');
    assert.equal(upgraded.peerCertificateFingerprint, fingerprint(named.cert));
    upgraded.close();
  });

  test('TLS 1.1 clients are refused by default (minimum TLS 1.2)', async () => {
    await assert.rejects(SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true, maxTlsVersion: 'TLSv1.1' }));
    const modern = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true, maxTlsVersion: 'TLSv1.2' });
    assert.equal(modern.tlsProtocol, 'TLSv1.2');
    modern.close();
  });

  test('SIGHUP reloads the certificate files without dropping open sessions', async () => {
    const open = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    assert.match((await open.reply())[0]!, /^220 /);
    const renewed = await createTestCertificate(['relay-a.test', 'renewed']);
    writeFileSync(join(certDir, 'a.key'), renewed.key);
    writeFileSync(join(certDir, 'a.crt'), renewed.cert);
    gateway.child.kill('SIGHUP');
    await gateway.waitForLog('TLS certificates reloaded');
    const fresh = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    assert.equal(fresh.peerCertificateFingerprint, fingerprint(renewed.cert));
    fresh.close();
    assert.equal(await open.command('NOOP'), '250 Ok');
    open.close();
  });
});

test('without certificate files: self-signed certificates are generated into the data directory, with a loud warning', async () => {
  const gateway = await startGatewayProcess({ listen: ['127.0.0.1:0=tls'] });
  try {
    const warning = gateway.logs.find((record) => String(record.msg).startsWith('NO TLS CERTIFICATE CONFIGURED'));
    assert.ok(warning);
    assert.equal(warning.level, 40);
    const pem = readFileSync(join(gateway.dataDir, 'tls', 'self-signed-ecdsa.crt'), 'utf8');
    const dialog = await SmtpDialog.open({ port: gateway.tlsPorts[0]!, tls: true });
    assert.equal(dialog.peerCertificateFingerprint, fingerprint(pem));
    dialog.close();
  } finally {
    await gateway.stop();
  }
});
