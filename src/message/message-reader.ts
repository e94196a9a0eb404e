import { Transform, type TransformCallback, type Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HeaderFields, parseHeaderSection, startsWithHeaderField } from './header-section.js';
import { LineEndingNormalizer } from './line-ending-normalizer.js';

export interface MessageLimits {
  maxBytes: number;
  maxHeaderBytes: number;
}

export interface ReadMessage {
  headers: HeaderFields;
  /** Bytes of the whole message as stored (after line-ending normalisation). */
  size: number;
  bodyBytes: number;
  tooLarge: boolean;
  headerTooLarge: boolean;
  bareLineEndings: number;
}

const BLANK_LINE = Buffer.from('\r\n\r\n');

/** Holds back the header section, passes the body through, and stops storing once a limit is passed. */
class HeaderSplitter extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private headerDone = false;
  headerText = '';
  size = 0;
  bodyBytes = 0;
  tooLarge = false;
  headerTooLarge = false;

  constructor(private readonly limits: MessageLimits) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.limits.maxBytes) this.tooLarge = true;
    if (this.tooLarge || this.headerTooLarge) return callback();
    if (this.headerDone) return this.pushBody(chunk, callback);

    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    const buffered = this.pending.length === 1 ? chunk : Buffer.concat(this.pending);
    this.pending = [buffered];

    const firstLineEnd = buffered.indexOf('\r\n');
    if (firstLineEnd === -1 && buffered.length <= this.limits.maxHeaderBytes) return callback();
    const firstLine = buffered.toString('latin1', 0, firstLineEnd === -1 ? buffered.length : firstLineEnd + 2);
    if (firstLine === '\r\n') return this.finishHeader('', buffered.subarray(2), callback);
    if (!startsWithHeaderField(firstLine)) return this.finishHeader('', buffered, callback);

    const separator = buffered.indexOf(BLANK_LINE);
    if (separator !== -1) return this.finishHeader(buffered.toString('latin1', 0, separator + 2), buffered.subarray(separator + 4), callback);
    if (this.pendingBytes > this.limits.maxHeaderBytes) {
      this.headerTooLarge = true;
      this.pending = [];
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    // A message that is all header and no blank line: the whole of it is the header section.
    if (!this.headerDone && !this.tooLarge && !this.headerTooLarge && this.pending.length > 0) {
      const text = Buffer.concat(this.pending).toString('latin1');
      this.headerText = text.endsWith('\r\n') ? text : `${text}\r\n`;
    }
    callback();
  }

  private finishHeader(headerText: string, rest: Buffer, callback: TransformCallback): void {
    this.headerDone = true;
    this.headerText = headerText;
    this.pending = [];
    if (rest.length === 0) return callback();
    this.pushBody(rest, callback);
  }

  private pushBody(chunk: Buffer, callback: TransformCallback): void {
    this.bodyBytes += chunk.length;
    callback(null, chunk);
  }
}

/**
 * Reads DATA: normalises line endings, keeps the header section in memory (bounded), and streams
 * the body into `body` without buffering it. Resolves once `body` has finished.
 */
export async function readMessage(input: Readable, body: Writable, limits: MessageLimits): Promise<ReadMessage> {
  const normalizer = new LineEndingNormalizer();
  const splitter = new HeaderSplitter(limits);
  await pipeline(input, normalizer, splitter, body);
  return {
    headers: new HeaderFields(parseHeaderSection(splitter.headerText)),
    size: splitter.size,
    bodyBytes: splitter.bodyBytes,
    tooLarge: splitter.tooLarge,
    headerTooLarge: splitter.headerTooLarge,
    bareLineEndings: normalizer.bareLineEndings,
  };
}
