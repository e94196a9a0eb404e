import test from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { dkimRecordName, dkimTxtRecord } from '../../../src/message/dkim/dns-record.js';
import { DkimError } from '../../../src/message/dkim/dkim-error.js';
import { generateDkimKey, publicKeyFromPrivate } from '../../../src/message/dkim/keys.js';

function rsaBits(publicKeyDnsValue: string): number | undefined {
  return createPublicKey({ key: Buffer.from(publicKeyDnsValue, 'base64'), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength;
}

test('generates RSA keys of the requested size as PKCS#8 PEM', () => {
  const key = generateDkimKey('rsa-2048');
  assert.equal(key.algorithm, 'rsa-sha256');
  assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  assert.equal(rsaBits(key.publicKeyDnsValue), 2048);
  assert.equal(rsaBits(generateDkimKey('rsa-1024').publicKeyDnsValue), 1024);
});

test('an Ed25519 public key is published as the raw 32 bytes (RFC 8463)', () => {
  const key = generateDkimKey('ed25519');
  assert.equal(key.algorithm, 'ed25519-sha256');
  assert.equal(Buffer.from(key.publicKeyDnsValue, 'base64').length, 32);
  const spki = createPublicKey(createPrivateKey(key.privateKeyPem)).export({ type: 'spki', format: 'der' });
  assert.deepEqual(spki.subarray(-32), Buffer.from(key.publicKeyDnsValue, 'base64'));
});

test('publicKeyFromPrivate gives back what generateDkimKey published', () => {
  for (const kind of ['rsa-1024', 'ed25519'] as const) {
    const { privateKeyPem, ...publicPart } = generateDkimKey(kind);
    assert.deepEqual(publicKeyFromPrivate(privateKeyPem), publicPart);
  }
});

test('publicKeyFromPrivate accepts a PKCS#1 RSA key, as SES BYODKIM uses', () => {
  const key = generateDkimKey('rsa-1024');
  const pkcs1 = createPrivateKey(key.privateKeyPem).export({ type: 'pkcs1', format: 'pem' }).toString();
  assert.match(pkcs1, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.equal(publicKeyFromPrivate(pkcs1).publicKeyDnsValue, key.publicKeyDnsValue);
});

test('bad private keys are reported clearly', () => {
  const rejects = (pem: string, message: RegExp) => assert.throws(() => publicKeyFromPrivate(pem), (err: unknown) => err instanceof DkimError && message.test(err.message));
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });

  rejects('not a key at all', /the DKIM private key is not PEM/);
  rejects(rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString(), /a "PUBLIC KEY" block was given, but DKIM signing needs the private key/);
  rejects(rsa.privateKey.export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'secret' }).toString(), /is encrypted/);
  rejects('-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n', /could not be decoded \(damaged or truncated PEM\?\)/);
  rejects('-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n', /"BEGIN EC PRIVATE KEY" is not a supported DKIM private key/);

  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  rejects(ec, /is of type ec; DKIM supports RSA and Ed25519/);
  const small = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  rejects(small, /the DKIM RSA key is 512 bits; it must be 1024 to 4096 bits/);
});

test('TXT record value and name', () => {
  assert.equal(dkimTxtRecord({ algorithm: 'rsa-sha256', publicKeyDnsValue: 'MIIBIjAN' }), 'v=DKIM1; k=rsa; p=MIIBIjAN');
  assert.equal(dkimTxtRecord({ algorithm: 'ed25519-sha256', publicKeyDnsValue: '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' }), 'v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=');
  assert.equal(dkimRecordName('Brisbane', 'Example.COM'), 'brisbane._domainkey.example.com');
  assert.throws(() => dkimRecordName('bad;selector', 'example.com'), /DKIM selector "bad;selector" is not valid/);
  assert.throws(() => dkimRecordName('s1', 'exämple.com'), /is not a valid domain name \(write internationalised names in their xn-- form\)/);
});
