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
    const parts: Buffer[] = [];
    let start = 0;
    let index = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      parts.push(CRLF);
      if (chunk[0] === LF) start = index = 1;
      else this.bareLineEndings++;
    }
    while (index < chunk.length) {
      const cr = chunk.indexOf(CR, index);
      const lf = chunk.indexOf(LF, index);
      if (cr === -1 && lf === -1) break;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        parts.push(chunk.subarray(start, cr));
        if (cr + 1 === chunk.length) {
          this.pendingCr = true;
          start = index = chunk.length;
          break;
        }
        parts.push(CRLF);
        if (chunk[cr + 1] === LF) {
          start = index = cr + 2;
        } else {
          this.bareLineEndings++;
          start = index = cr + 1;
        }
      } else {
        parts.push(chunk.subarray(start, lf), CRLF);
        this.bareLineEndings++;
        start = index = lf + 1;
      }
    }
    if (start === 0 && !this.pendingCr && parts.length === 0) {
      callback(null, chunk);
      return;
    }
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
