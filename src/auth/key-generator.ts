import { randomBytes, randomInt } from 'node:crypto';

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** A 20-character access key id shaped like AWS's long-term keys (AKIA + 16 base32 characters). */
export function generateAccessKeyId(): string {
  let id = 'AKIA';
  for (let i = 0; i < 16; i++) id += KEY_ID_ALPHABET[randomInt(KEY_ID_ALPHABET.length)];
  return id;
}

/** A 40-character secret access key, AWS's length and alphabet. */
export function generateSecretAccessKey(): string {
  return randomBytes(30).toString('base64');
}

/** A 12-digit account id that does not start with 0. */
export function generateAccountId(): string {
  return String(randomInt(1, 10)) + String(randomInt(0, 100_000_000_000)).padStart(11, '0');
}
