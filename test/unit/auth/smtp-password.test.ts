import test from 'node:test';
import assert from 'node:assert/strict';
import { deriveSmtpPassword } from '../../../src/auth/smtp-password.js';
import { hashPassword, passwordMatches } from '../../../src/auth/credential-hash.js';
import { generateAccessKeyId, generateAccountId, generateSecretAccessKey } from '../../../src/auth/key-generator.js';

// The spec's vectors (shared/spec/ses-submission.md §5.6), computed with the guide's own script.
const VECTORS: Array<[string, string, string]> = [
  ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'us-east-1', 'BLBM/9hSUELfq8Gw+rU1YcBjkOxGbhT2XG763xVLGWL9'],
  ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'us-west-2', 'BF2PynzbSCAjX08zhZZnP/kW+T9P5zs/1Er0pi5vTEmd'],
  ['wJalrXutnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'us-west-2', 'BL9CFMStngg/N3vvHduEINa8P72VZF7eeS9yGMxodV6D'],
  ['wJalrXUtnFEMI/K7MDENG/bPxRfCYEXAMPLEKEY', 'us-east-1', 'BA2HKI3SwIn3DtevD9186ysimx7TvzS11wW9FC9PeWie'],
  ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'eu-west-1', 'BMW5RDrXmmVs0lV7GpI4oLkHXpZ4stDsk6q91z1g38Pk'],
  ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'eu-west-3', 'BDDdpSTzbzUY3SJq/n4Oq7heDuCWbOtogMi5S3AR673+'],
  ['wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'eu-north-1', 'BPfy85A/4ChxYc0s4mIG5bpIlvRl5AP1uupODe8KaHpf'],
];

for (const [secret, region, expected] of VECTORS) {
  test(`SES v4 SMTP password for ${secret.slice(0, 12)}… in ${region}`, () => {
    assert.equal(deriveSmtpPassword(secret, region), expected);
  });
}

test('stored password hashes verify only the same password and never contain it', () => {
  const password = deriveSmtpPassword('secret', 'us-east-1');
  const stored = hashPassword(password);
  assert.ok(passwordMatches(password, stored));
  assert.ok(!passwordMatches(`${password}x`, stored));
  assert.ok(!passwordMatches('', stored));
  assert.ok(!JSON.stringify(stored).includes(password));
  assert.notEqual(hashPassword(password).hash, stored.hash, 'salted: the same password hashes differently');
});

test('generated keys have AWS shapes', () => {
  assert.match(generateAccessKeyId(), /^AKIA[A-Z2-7]{16}$/);
  assert.match(generateSecretAccessKey(), /^[A-Za-z0-9+/]{40}$/);
  assert.match(generateAccountId(), /^[1-9]\d{11}$/);
});
