import { createHash, type Hash } from 'node:crypto';

/**
 * RFC 6376 3.4.2 "relaxed" header canonicalization of one field (its raw lines, folding included): lower-case name,
 * unfolded, runs of spaces and tabs as one space, none around the colon or at the end.
 */
export function relaxedHeaderField(raw: string): string {
  const colon = raw.indexOf(':');
  const name = raw.slice(0, colon).trim().toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
  return `${name}:${value}\r\n`;
}

/**
 * RFC 6376 3.4.4 "relaxed" body canonicalization, hashed with SHA-256 as the body streams by: spaces and tabs at line
 * ends dropped, other runs of them made one space, empty lines at the end dropped (an empty body hashes as nothing).
 */
export class RelaxedBodyHash {
  private readonly hash: Hash = createHash('sha256');
  private partial = '';
  private emptyLines = 0;

  update(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString('latin1')).split('\r\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** The base64 hash (the bh= value); a last line without CRLF counts as a line. */
  digest(): string {
    if (this.partial !== '') this.line(this.partial);
    this.partial = '';
    return this.hash.digest('base64');
  }

  private line(line: string): void {
    const canonical = line.replace(/[ \t]+/g, ' ').replace(/ $/, '');
    if (canonical === '') {
      // Held back: empty lines count only if more content follows them.
      this.emptyLines++;
      return;
    }
    if (this.emptyLines > 0) this.hash.update('\r\n'.repeat(this.emptyLines));
    this.emptyLines = 0;
    this.hash.update(`${canonical}\r\n`, 'latin1');
  }
}
