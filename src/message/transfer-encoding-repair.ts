import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const EQUALS = 0x3d;
const HEX = Buffer.from('0123456789ABCDEF', 'latin1');
/** RFC 2045 6.7 and 6.8: encoded lines are at most 76 characters. */
const ENCODED_LINE_LENGTH = 76;
const EMPTY = Buffer.alloc(0);

const isHexDigit = (byte: number | undefined): boolean =>
  byte !== undefined && ((byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66));

/** What may stand in a quoted-printable line as it is: printable ASCII, space and tab ('=' is handled apart). */
const isLiteral = (byte: number): boolean => (byte >= 0x20 && byte <= 0x7e) || byte === 0x09;

/**
 * Mends a body labelled quoted-printable that holds 8-bit bytes or over-long lines, without decoding it: each
 * 8-bit byte (and a stray CR, LF or '=' that starts no escape) becomes its =XX escape, and soft line breaks keep
 * lines to 76 characters. Decoded, the result is what a lenient decoder makes of the input (they pass 8-bit bytes
 * and a stray '=' through), and existing escapes, soft and hard line breaks stay where they are.
 */
export class QuotedPrintableRepair extends Transform {
  /** An '=' or a CR at the end of a chunk: what it means depends on the bytes after it. */
  private held: Buffer = EMPTY;
  private column = 0;
  private encoded: Buffer = EMPTY;
  private encodedLength = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const input = this.held.length > 0 ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = EMPTY;
    callback(null, this.repair(input, false));
  }

  override _flush(callback: TransformCallback): void {
    if (this.held.length > 0) this.push(this.repair(this.held, true));
    callback();
  }

  private repair(input: Buffer, final: boolean): Buffer {
    // An escape is 3 bytes for 1, and a soft break ('=' CRLF) comes at most every 24 escapes.
    this.encoded = Buffer.allocUnsafe(input.length * 4 + 8);
    this.encodedLength = 0;
    for (let index = 0; index < input.length; index++) {
      const byte = input[index]!;
      const lookahead = byte === EQUALS ? 2 : byte === CR ? 1 : 0;
      if (!final && index + lookahead >= input.length) {
        this.held = Buffer.from(input.subarray(index));
        break;
      }
      if (byte === CR && input[index + 1] === LF) {
        this.put(CR, LF);
        this.column = 0;
        index++;
      } else if (byte === EQUALS && input[index + 1] === CR && input[index + 2] === LF) {
        this.put(EQUALS, CR, LF);
        this.column = 0;
        index += 2;
      } else if (byte === EQUALS && isHexDigit(input[index + 1]) && isHexDigit(input[index + 2])) {
        this.token(EQUALS, input[index + 1]!, input[index + 2]!);
        index += 2;
      } else if (byte !== EQUALS && isLiteral(byte)) {
        this.token(byte);
      } else {
        this.token(EQUALS, HEX[byte >> 4]!, HEX[byte & 0x0f]!);
      }
    }
    return this.encoded.subarray(0, this.encodedLength);
  }

  /** Writes a character or an escape, after a soft line break when the line would pass 76 characters with its '='. */
  private token(...bytes: number[]): void {
    if (this.column + bytes.length > ENCODED_LINE_LENGTH - 1) {
      this.put(EQUALS, CR, LF);
      this.column = 0;
    }
    this.put(...bytes);
    this.column += bytes.length;
  }

  private put(...bytes: number[]): void {
    for (const byte of bytes) this.encoded[this.encodedLength++] = byte;
  }
}

const BASE64_ALPHABET = new Uint8Array(256);
for (const byte of Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=', 'latin1')) BASE64_ALPHABET[byte] = 1;

/**
 * Mends a body labelled base64 that holds 8-bit bytes or over-long lines, without decoding it: everything outside
 * the base64 alphabet is dropped (as decoders ignore it) and what is left is cut into lines of 76 characters.
 */
export class Base64Repair extends Transform {
  private column = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // Every 76 characters take a CRLF before the next.
    const output = Buffer.allocUnsafe(chunk.length + 2 * Math.ceil(chunk.length / ENCODED_LINE_LENGTH) + 2);
    let length = 0;
    for (const byte of chunk) {
      if (BASE64_ALPHABET[byte] !== 1) continue;
      if (this.column === ENCODED_LINE_LENGTH) {
        output[length++] = CR;
        output[length++] = LF;
        this.column = 0;
      }
      output[length++] = byte;
      this.column++;
    }
    callback(null, output.subarray(0, length));
  }
}
