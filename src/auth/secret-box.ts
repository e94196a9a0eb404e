import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

const VERSION = 'v1';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts secret access keys at rest (AES-256-GCM) with a key file the operator controls: the control database
 * alone does not reveal them. The access key id is bound as associated data, so a sealed secret cannot be moved
 * to another credential's row.
 */
export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  /** Reads the key file (base64 of 32 bytes), creating it with mode 0600 when it does not exist yet. */
  static open(path: string): SecretBox {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read the secret key file ${path}: ${(error as Error).message}`);
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
      // Written aside and linked into place: processes creating it at once (session workers) must neither end up with
      // different keys nor read a file that exists but is not written yet.
      const aside = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
      try {
        writeFileSync(aside, text, { mode: 0o600, flag: 'wx' });
        linkSync(aside, path);
      } catch (writeError) {
        if ((writeError as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the secret key file ${path}: ${(writeError as Error).message}`);
        text = readFileSync(path, 'utf8');
      } finally {
        rmSync(aside, { force: true });
      }
    }
    const key = Buffer.from(text.trim(), 'base64');
    if (key.length !== KEY_BYTES) throw new Error(`the secret key file ${path} does not hold a base64 32-byte key`);
    return new SecretBox(key);
  }

  seal(secret: string, accessKeyId: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`;
  }

  /** The secret, or null when it was sealed with another key (or altered). */
  open(sealed: string, accessKeyId: string): string | null {
    const [version, data] = sealed.split(':');
    if (version !== VERSION || !data) return null;
    const bytes = Buffer.from(data, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, bytes.subarray(0, IV_BYTES));
      decipher.setAAD(Buffer.from(accessKeyId, 'utf8'));
      decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }
}
