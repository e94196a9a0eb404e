import { Writable } from 'node:stream';
import type { Spool, SpoolFile } from './spool.js';

/**
 * Bodies up to this size are stored in the queue row itself: the commit that makes the message durable then
 * covers the body too, with no file to create, fsync, read back and remove. Larger bodies stream to a spool file.
 */
export const INLINE_BODY_LIMIT = 128 * 1024;

/**
 * Where a message's body went: kept in memory (to be stored inline) or streamed to a spool file. A spool failure
 * (the hour's directory cannot be made, a write finds the disk full) fails the write in progress or, when none waits,
 * the next write or the end: the message is refused, never stored short, and no write is left waiting for a drain
 * that a failed file never emits.
 */
export class BodySink extends Writable {
  private chunks: Buffer[] = [];
  private bytes = 0;
  /** The chunks joined, once asked for: the policy's content checks and the acceptance both read the body. */
  private joined: Buffer | null = null;
  file: SpoolFile | null = null;
  /** The body file's first error. */
  private fileError: Error | null = null;
  /** The callback of a write that waits for the file to drain. */
  private waiting: ((error?: Error | null) => void) | null = null;

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
    if (this.file) return null;
    return (this.joined ??= Buffer.concat(this.chunks, this.bytes));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.file) {
      this.joined = null;
      this.chunks.push(chunk);
      this.bytes += chunk.length;
      if (this.bytes <= this.inlineLimit) return callback();
      try {
        this.file = this.createFile();
      } catch (error) {
        return callback(error as Error);
      }
      chunk = Buffer.concat(this.chunks, this.bytes);
      this.chunks = [];
    }
    if (this.fileError) return callback(this.fileError);
    if (this.file.stream.write(chunk)) return callback();
    this.waiting = callback;
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.file) return callback();
    if (this.fileError) return callback(this.fileError);
    this.file.stream.end((error?: Error | null) => callback(error ?? this.fileError));
  }

  private createFile(): SpoolFile {
    const file = this.spool.create(this.messageId, this.receivedAt);
    file.stream.on('drain', () => this.release());
    file.stream.on('error', (error: Error) => {
      this.fileError ??= error;
      this.release();
    });
    return file;
  }

  /** Lets the waiting write go on, or fail with the file's error. */
  private release(): void {
    const callback = this.waiting;
    this.waiting = null;
    callback?.(this.fileError);
  }
}
