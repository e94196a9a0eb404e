import { deriveSigningKey } from './sigv4-canonical.js';

/** Enough for every credential of a large gateway on two scope days (around midnight UTC). */
const MAX_KEYS = 10_000;

/**
 * SigV4 signing keys by credential and scope day. Deriving one costs opening the sealed secret (AES-GCM) and four
 * HMACs; a client signs every request of a day with the same key, so each is derived once per day. The sealed secret
 * is part of the cache key: a credential imported again with another secret gets a new signing key.
 */
export class SigningKeys {
  private readonly keys = new Map<string, Buffer>();

  /** The key, or null when the secret cannot be opened (`openSecret` answers null). */
  get(credential: { accessKeyId: string; sealedSecret: string }, scope: { date: string; region: string; service: string }, openSecret: () => string | null): Buffer | null {
    const cacheKey = `${credential.accessKeyId}\0${credential.sealedSecret}\0${scope.date}\0${scope.region}\0${scope.service}`;
    const cached = this.keys.get(cacheKey);
    if (cached) return cached;
    const secret = openSecret();
    if (secret === null) return null;
    const key = deriveSigningKey(secret, scope.date, scope.region, scope.service);
    if (this.keys.size >= MAX_KEYS) this.keys.delete(this.keys.keys().next().value as string);
    this.keys.set(cacheKey, key);
    return key;
  }
}
