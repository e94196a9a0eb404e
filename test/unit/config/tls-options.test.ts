import test from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../../src/config/load.js';

test('tls defaults: no certificate files (self-signed), no SNI entries, TLS 1.2', () => {
  assert.deepEqual(buildConfig({}).tls, { certificate: null, rsaCertificate: null, sni: {}, minVersion: 'TLSv1.2' });
});

test('an ECDSA certificate with an RSA one alongside; an existing single-certificate configuration stays valid', () => {
  const config = buildConfig({
    tls: {
      certFile: '/etc/relaygate/ec.crt',
      keyFile: '/etc/relaygate/ec.key',
      rsaCertFile: '/etc/relaygate/rsa.crt',
      rsaKeyFile: '/etc/relaygate/rsa.key',
      sni: { 'Mail.Example.net': { certFile: '/etc/relaygate/mail.crt', keyFile: '/etc/relaygate/mail.key' } },
    },
  });
  assert.deepEqual(config.tls, {
    certificate: { certFile: '/etc/relaygate/ec.crt', keyFile: '/etc/relaygate/ec.key' },
    rsaCertificate: { certFile: '/etc/relaygate/rsa.crt', keyFile: '/etc/relaygate/rsa.key' },
    sni: { 'mail.example.net': { certFile: '/etc/relaygate/mail.crt', keyFile: '/etc/relaygate/mail.key' } },
    minVersion: 'TLSv1.2',
  });
  const single = buildConfig({ tls: { certFile: '/a.crt', keyFile: '/a.key' } }).tls;
  assert.deepEqual([single.certificate, single.rsaCertificate], [{ certFile: '/a.crt', keyFile: '/a.key' }, null]);
});

const ERRORS: Array<[string, unknown, string]> = [
  ['RSA key without its certificate', { certFile: '/a.crt', keyFile: '/a.key', rsaKeyFile: '/r.key' }, 'tls.rsaCertFile: tls.rsaCertFile and tls.rsaKeyFile must be set together'],
  ['RSA pair without the main one', { rsaCertFile: '/r.crt', rsaKeyFile: '/r.key' }, 'tls.rsaCertFile: needs certFile and keyFile (the ECDSA certificate) as well'],
  ['SNI entry without a key', { sni: { 'a.example': { certFile: '/a.crt' } } }, 'tls.sni.a.example.certFile: tls.sni.a.example.certFile and tls.sni.a.example.keyFile must be set together'],
  ['empty SNI entry', { sni: { 'a.example': {} } }, 'tls.sni.a.example.certFile: certFile and keyFile are both required'],
  ['a second certificate per SNI name', { sni: { 'a.example': { certFile: '/a.crt', keyFile: '/a.key', rsaCertFile: '/r.crt', rsaKeyFile: '/r.key' } } }, 'tls.sni.a.example.rsaCertFile: unknown option'],
  ['unknown option', { ecCertFile: '/e.crt' }, 'tls.ecCertFile: unknown option'],
];

for (const [name, tls, message] of ERRORS) {
  test(`tls configuration error names the option: ${name}`, () => {
    assert.throws(() => buildConfig({ tls }), { name: 'ConfigError', message: `configuration option ${message}` });
  });
}
