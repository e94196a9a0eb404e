import { isAscii } from 'node:buffer';

const CR = 0x0d;
const LF = 0x0a;

/** RFC 5321 4.5.3.1.6: a line is at most 1000 octets, its CRLF included. */
export const MAX_LINE_LENGTH = 998;

/**
 * Notes, across chunk boundaries, what in a stream of message bytes SMTP cannot carry as it is: NUL, 8-bit bytes
 * (only with 8BITMIME, RFC 6152), lines over 998 bytes, and CR or LF outside a CRLF pair.
 */
export class LineScanner {
  nul = false;
  eightBit = false;
  longLine = false;
  bareLineEnding = false;
  /** Bytes of the current line so far. */
  private column = 0;
  private lastByte = -1;

  scan(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (!this.nul && chunk.includes(0)) this.nul = true;
    if (!this.eightBit && !isAscii(chunk)) this.eightBit = true;
    if (this.lastByte === CR && chunk[0] !== LF) this.bareLineEnding = true;
    let start = 0;
    for (let lf = chunk.indexOf(LF); lf !== -1; lf = chunk.indexOf(LF, start)) {
      const before = lf > 0 ? chunk[lf - 1] : this.lastByte;
      if (before !== CR) this.bareLineEnding = true;
      if (this.column + lf - start - (before === CR ? 1 : 0) > MAX_LINE_LENGTH) this.longLine = true;
      this.column = 0;
      start = lf + 1;
    }
    this.column += chunk.length - start;
    // The line may still end in a CR that belongs to its CRLF; one byte more is too long either way.
    if (this.column > MAX_LINE_LENGTH + 1) this.longLine = true;
    if (!this.bareLineEnding) {
      for (let cr = chunk.indexOf(CR); cr !== -1 && cr < chunk.length - 1; cr = chunk.indexOf(CR, cr + 1)) {
        if (chunk[cr + 1] !== LF) {
          this.bareLineEnding = true;
          break;
        }
      }
    }
    this.lastByte = chunk[chunk.length - 1]!;
  }

  /** The stream has ended: its last line, which has no line ending, is judged too. */
  end(): void {
    if (this.lastByte === CR) this.bareLineEnding = true;
    if (this.column - (this.lastByte === CR ? 1 : 0) > MAX_LINE_LENGTH) this.longLine = true;
  }

  /** Whether 8-bit bytes or long lines mean the data must be re-encoded (NUL and bare line endings cannot be). */
  get needsEncoding(): boolean {
    return this.eightBit || this.longLine;
  }
}
