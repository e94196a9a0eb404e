import { Writable } from 'node:stream';
import type { Spool, SpoolFile } from './spool.js';

/**
 * Bodies up to this size are stored in the queue row itself: the commit that makes the message durable then
 * covers the body too, with no file to create, fsync, read back and remove. Larger bodies stream to a spool file.
 */
export const INLINE_BODY_LIMIT = 128 * 1024;

/** Where a message's body went: kept in memory (to be stored inline) or streamed to a spool file. */
export class BodySink extends Writable {
  private chunks: Buffer[] = [];
  private bytes = 0;
  file: SpoolFile | null = null;

  constructor(
    private readonly spool: Spool,
    private readonly messageId: string,
    private readonly receivedAt: Date,
    private readonly inlineLimit = INLINE_BODY_LIMIT,
  ) {
    super();
  }

  /** The body when it stayed in memory; null when it went to a file. */
  get inline(): Buffer | null {
    return this.file ? null : Buffer.concat(this.chunks, this.bytes);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.file) {
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      if (this.bytes <= this.inlineLimit) return callback();
      this.file = this.spool.create(this.messageId, this.receivedAt);
      chunk = Buffer.concat(this.chunks, this.bytes);
      this.chunks = [];
    }
    const stream = this.file.stream;
    if (stream.write(chunk)) return callback();
    const settle = (error?: Error | null) => {
      stream.off('drain', settle);
      stream.off('error', settle);
      callback(error);
    };
    stream.on('drain', settle);
    stream.on('error', settle);
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.file) return callback();
    const stream = this.file.stream;
    stream.once('error', callback);
    stream.end(() => {
      stream.off('error', callback);
      callback();
    });
  }
}
