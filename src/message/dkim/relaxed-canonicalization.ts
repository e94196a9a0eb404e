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
 * Most bodies (base64, quoted-printable, ordinary text) have nothing to change: a chunk of whole lines without tabs,
 * double spaces or a space before CRLF is hashed as it is, and only those that have them go line by line.
 */
export class RelaxedBodyHash {
  private readonly hash: Hash = createHash('sha256');
  /** The bytes after the last CRLF seen: the start of a line still to come. */
  private partial: Buffer = Buffer.alloc(0);
  private emptyLines = 0;

  update(chunk: Buffer): void {
    const data = this.partial.length > 0 ? Buffer.concat([this.partial, chunk]) : chunk;
    const last = data.lastIndexOf(CRLF);
    const end = last === -1 ? 0 : last + 2;
    // Copied: the caller may reuse its buffer.
    this.partial = Buffer.from(data.subarray(end));
    if (end === 0) return;
    const lines = data.subarray(0, end);
    if (lines.indexOf(TAB) === -1 && lines.indexOf(TWO_SPACES) === -1 && lines.indexOf(SPACE_CRLF) === -1) this.unchangedLines(lines);
    else for (const line of lines.toString('latin1').split('\r\n').slice(0, -1)) this.line(line);
  }

  /** The base64 hash (the bh= value); a last line without CRLF counts as a line. */
  digest(): string {
    if (this.partial.length > 0) this.line(this.partial.toString('latin1'));
    this.partial = Buffer.alloc(0);
    return this.hash.digest('base64');
  }

  /** Whole lines that canonicalization leaves as they are: only the empty lines at their end are held back. */
  private unchangedLines(lines: Buffer): void {
    let end = lines.length;
    let trailingEmpty = 0;
    while (end >= 2 && (end === 2 || (lines[end - 4] === 0x0d && lines[end - 3] === 0x0a))) {
      trailingEmpty++;
      end -= 2;
    }
    if (end > 0) {
      this.flushEmptyLines();
      this.hash.update(lines.subarray(0, end));
    }
    this.emptyLines += trailingEmpty;
  }

  private line(line: string): void {
    const canonical = line.replace(/[ \t]+/g, ' ').replace(/ $/, '');
    if (canonical === '') {
      // Held back: empty lines count only if more content follows them.
      this.emptyLines++;
      return;
    }
    this.flushEmptyLines();
    this.hash.update(`${canonical}\r\n`, 'latin1');
  }

  private flushEmptyLines(): void {
    if (this.emptyLines > 0) this.hash.update('\r\n'.repeat(this.emptyLines));
    this.emptyLines = 0;
  }
}

const CRLF = Buffer.from('\r\n');
const TAB = 0x09;
const TWO_SPACES = Buffer.from('  ');
const SPACE_CRLF = Buffer.from(' \r\n');
