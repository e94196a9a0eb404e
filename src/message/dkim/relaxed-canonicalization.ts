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
 * Most bodies (base64, quoted-printable, ordinary text) have nothing to change: a run of whole lines without tabs,
 * double spaces or a space before CRLF is hashed as it is, and only those that have them go line by line. A chunk is
 * not copied: only a line cut by the chunk's end is kept, and joined to the start of the next.
 */
export class RelaxedBodyHash {
  private readonly hash: Hash = createHash('sha256');
  /** The bytes after the last CRLF seen: the start of a line still to come. */
  private partial: Buffer = Buffer.alloc(0);
  private emptyLines = 0;

  update(chunk: Buffer): void {
    let start = 0;
    if (this.partial.length > 0) {
      const splitCrlf = this.partial.at(-1) === CR && chunk[0] === LF;
      const crlf = splitCrlf ? -1 : chunk.indexOf(CRLF);
      if (!splitCrlf && crlf === -1) {
        this.partial = Buffer.concat([this.partial, chunk]);
        return;
      }
      start = splitCrlf ? 1 : crlf + 2;
      this.lines(Buffer.concat([this.partial, chunk.subarray(0, start)]));
    }
    const last = chunk.lastIndexOf(CRLF);
    // The last CRLF is at or after the one that ended the first line, if that was in this chunk.
    const end = last === -1 ? start : last + 2;
    if (end > start) this.lines(chunk.subarray(start, end));
    // Copied: the caller may reuse its buffer.
    this.partial = Buffer.from(chunk.subarray(end));
  }

  /** The base64 hash (the bh= value); a last line without CRLF counts as a line. */
  digest(): string {
    if (this.partial.length > 0) this.line(this.partial.toString('latin1'));
    this.partial = Buffer.alloc(0);
    return this.hash.digest('base64');
  }

  /** Whole lines, each ending in CRLF. */
  private lines(lines: Buffer): void {
    if (!needsCanonicalization(lines)) return this.unchangedLines(lines);
    for (const line of lines.toString('latin1').split('\r\n').slice(0, -1)) this.line(line);
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

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const TAB = 0x09;
const CRLF = Buffer.from('\r\n');

/**
 * Whether whole lines hold a tab, or a space followed by another or by the line's CRLF. Read in place: a latin1 copy
 * for a regular expression was as fast, but put the whole body on V8's heap (a third of a session worker's young
 * generation with 100 KB messages, so a third more scavenges). A space pair or a space before CR always has one of
 * its two bytes at an odd offset, so only every second byte is looked at first.
 */
function needsCanonicalization(lines: Buffer): boolean {
  if (lines.includes(TAB)) return true;
  const last = lines.length - 1;
  for (let index = 1; index <= last; index += 2) {
    const byte = lines[index];
    if (byte === SP) {
      const next = lines[index + 1];
      if (lines[index - 1] === SP || next === SP || next === CR) return true;
    } else if (byte === CR && lines[index - 1] === SP) {
      return true;
    }
  }
  return false;
}
