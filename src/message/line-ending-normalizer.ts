import { Transform, type TransformCallback } from 'node:stream';

const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n');

/**
 * Rewrites every bare CR and bare LF in DATA as CRLF. The SMTP layer ends DATA only at
 * <CRLF>.<CRLF>, so a "<LF>.<LF>" or "<CR>.<CR>" can never end a message early; after this pass the
 * stored message has one kind of line ending, so no server downstream can read a different
 * message boundary out of it either (SMTP smuggling).
 */
export class LineEndingNormalizer extends Transform {
  /** A CR ended the previous chunk: whether it is bare depends on the next byte. */
  private pendingCr = false;
  bareLineEndings = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    // An empty chunk says nothing about a pending CR: only the next byte does.
    if (chunk.length === 0) return callback();
    // Only a bare CR or LF splits the chunk: CRLF pairs pass as they are, so a clean chunk is passed on uncopied.
    const parts: Buffer[] = [];
    let start = 0;
    let index = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      parts.push(CRLF);
      if (chunk[0] === LF) start = index = 1;
      else this.bareLineEndings++;
    }
    let cr = chunk.indexOf(CR, index);
    let lf = chunk.indexOf(LF, index);
    while (cr !== -1 || lf !== -1) {
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr + 1 === chunk.length) {
          // Whether this CR is bare depends on the next chunk's first byte.
          parts.push(chunk.subarray(start, cr));
          this.pendingCr = true;
          start = chunk.length;
          break;
        }
        if (lf === cr + 1) {
          cr = chunk.indexOf(CR, cr + 2);
          lf = chunk.indexOf(LF, lf + 1);
          continue;
        }
        parts.push(chunk.subarray(start, cr), CRLF);
        this.bareLineEndings++;
        start = cr + 1;
        cr = chunk.indexOf(CR, start);
      } else {
        parts.push(chunk.subarray(start, lf), CRLF);
        this.bareLineEndings++;
        start = lf + 1;
        lf = chunk.indexOf(LF, start);
      }
    }
    if (parts.length === 0) return callback(null, chunk);
    parts.push(chunk.subarray(start));
    callback(null, Buffer.concat(parts));
  }

  override _flush(callback: TransformCallback): void {
    if (this.pendingCr) {
      this.pendingCr = false;
      this.bareLineEndings++;
      this.push(CRLF);
    }
    callback();
  }
}
