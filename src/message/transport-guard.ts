import { Transform, type TransformCallback } from 'node:stream';
import { LineScanner } from './line-scanner.js';

/** What a next hop must not be sent (the gateway re-encodes or refuses such messages when it accepts them). */
export type UnsendableContent = 'nul' | 'bare-line-ending' | 'long-line' | 'eight-bit';

export class UnsendableContentError extends Error {
  constructor(readonly content: UnsendableContent) {
    super(`the message cannot be sent: ${content}`);
  }
}

/**
 * Passes a message on to the next hop and fails, before the chunk that holds it, at the first NUL, bare CR or LF,
 * line over 998 bytes, or (unless the hop offered 8BITMIME) 8-bit byte: the last check between the queue and the
 * network, for messages queued before the gateway re-encoded at acceptance.
 */
export class TransportGuard extends Transform {
  private readonly scanner = new LineScanner();

  constructor(private readonly eightBitAllowed: boolean) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.scanner.scan(chunk);
    const found = this.unsendable();
    callback(found ? new UnsendableContentError(found) : null, found ? undefined : chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.scanner.end();
    const found = this.unsendable();
    callback(found ? new UnsendableContentError(found) : null);
  }

  private unsendable(): UnsendableContent | null {
    const { scanner } = this;
    if (scanner.nul) return 'nul';
    if (scanner.bareLineEnding) return 'bare-line-ending';
    if (scanner.longLine) return 'long-line';
    return scanner.eightBit && !this.eightBitAllowed ? 'eight-bit' : null;
  }
}
