import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The stored form of an SMTP password. A derived SES password is a 256-bit HMAC output, so a salted
 * SHA-256 already resists guessing; a slow KDF would only cost CPU on every AUTH.
 */
export interface PasswordHash {
  salt: string;
  hash: string;
}

function digest(salt: string, password: string): Buffer {
  return createHash('sha256').update(salt, 'utf8').update('\0').update(password, 'utf8').digest();
}

export function hashPassword(password: string): PasswordHash {
  const salt = randomBytes(16).toString('base64');
  return { salt, hash: digest(salt, password).toString('base64') };
}

/** Constant-time comparison of a presented password with the stored hash. */
export function passwordMatches(password: string, stored: PasswordHash): boolean {
  const expected = Buffer.from(stored.hash, 'base64');
  const actual = digest(stored.salt, password);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
