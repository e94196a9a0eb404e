import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { pipeStreamsAsync } from '../common/pipe-streams.js';
import { foldLongLines } from './header-folding.js';
import { HeaderFields, parseHeaderSection, startsWithHeaderField } from './header-section.js';
import { LineEndingNormalizer } from './line-ending-normalizer.js';
import { LineScanner } from './line-scanner.js';

export interface MessageLimits {
  maxBytes: number;
  maxHeaderBytes: number;
}

/**
 * Why a message cannot go out, whatever is done to it: a NUL byte (a next hop that drops NUL could read another
 * message boundary out of what is left), 8-bit bytes in a header field, a header line too long to fold, a part
 * that cannot be re-encoded (see encodeForTransport), a MIME structure past mailsplit's limits.
 */
export type ContentProblem = 'nul' | 'eight-bit-header' | 'long-header-line' | 'unencodable-part' | 'mime-too-large';

/** The largest header section a message may have (smtp.maxMessageBytes when that is smaller). */
export const MAX_HEADER_SECTION_BYTES = 1024 * 1024;

export interface ReadMessage {
  /** The header fields, lines over 998 bytes folded. */
  headers: HeaderFields;
  /** Bytes of the whole message as stored (after line-ending normalisation). */
  size: number;
  bodyBytes: number;
  tooLarge: boolean;
  headerTooLarge: boolean;
  bareLineEndings: number;
  problem: ContentProblem | null;
  /** The body has 8-bit bytes or lines over 998 bytes: it must be re-encoded (encodeForTransport) before it goes out. */
  needsTransportEncoding: boolean;
}

const BLANK_LINE = Buffer.from('\r\n\r\n');

/** Holds back the header section, passes the body through, and stops storing once a limit is passed. */
class HeaderSplitter extends Transform {
  /** The header section so far, as received: joined only once its end is found, so that small chunks cost no copies. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** The last bytes of `pending` (at most 3), searched again with the next chunk for a CRLF or blank line across it. */
  private tail: Buffer = Buffer.alloc(0);
  private firstLineChecked = false;
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

    // Only the new bytes (and the tail before them) are searched: searching all that is held at every chunk made a
    // header sent in small pieces cost its size squared.
    const windowStart = this.pendingBytes - this.tail.length;
    const window = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    this.tail = Buffer.from(window.subarray(Math.max(0, window.length - 3)));

    if (!this.firstLineChecked) {
      const firstLineEnd = window.indexOf('\r\n');
      if (firstLineEnd === -1 && this.pendingBytes <= this.limits.maxHeaderBytes) return callback();
      this.firstLineChecked = true;
      const buffered = this.joinPending();
      const end = firstLineEnd === -1 ? buffered.length : windowStart + firstLineEnd + 2;
      const firstLine = buffered.toString('latin1', 0, end);
      if (firstLine === '\r\n') return this.finishHeader('', buffered.subarray(2), callback);
      if (!startsWithHeaderField(firstLine)) return this.finishHeader('', buffered, callback);
      const separator = buffered.indexOf(BLANK_LINE);
      if (separator !== -1) return this.finishAt(separator, callback);
    } else {
      const separator = window.indexOf(BLANK_LINE);
      if (separator !== -1) return this.finishAt(windowStart + separator, callback);
    }
    if (this.pendingBytes > this.limits.maxHeaderBytes) {
      this.headerTooLarge = true;
      this.pending = [];
    }
    callback();
  }

  private joinPending(): Buffer {
    const joined = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [joined];
    return joined;
  }

  /** The header section ends at the blank line found at `separator` (an offset into everything held). */
  private finishAt(separator: number, callback: TransformCallback): void {
    const buffered = this.joinPending();
    this.finishHeader(buffered.toString('latin1', 0, separator + 2), buffered.subarray(separator + 4), callback);
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

/** Passes the body through, noting what SMTP cannot carry in it as it is. */
class BodyScanner extends Transform {
  readonly scanner = new LineScanner();

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.scanner.scan(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    this.scanner.end();
    callback();
  }
}

/**
 * Reads DATA: normalises line endings, keeps the header section in memory (bounded), and streams
 * the body into `body` without buffering it. Resolves once `body` has finished. `transforms` run on
 * the input first (re-encoding uses them).
 */
export async function readMessage(input: NodeJS.ReadableStream, body: Writable, limits: MessageLimits, ...transforms: NodeJS.ReadWriteStream[]): Promise<ReadMessage> {
  const normalizer = new LineEndingNormalizer();
  const splitter = new HeaderSplitter(limits);
  const scanner = new BodyScanner();
  await pipeStreamsAsync([input, ...transforms, normalizer, splitter, scanner, body]);
  const fields = parseHeaderSection(splitter.headerText);
  // A field that cannot be folded stays as it is; the problem refuses the message.
  const folded = fields.map((field) => foldLongLines(field.raw));
  return {
    headers: new HeaderFields(fields.map((field, index) => ({ name: field.name, raw: folded[index] ?? field.raw }))),
    size: splitter.size,
    bodyBytes: splitter.bodyBytes,
    tooLarge: splitter.tooLarge,
    headerTooLarge: splitter.headerTooLarge,
    bareLineEndings: normalizer.bareLineEndings,
    problem: scanner.scanner.nul ? 'nul' : headerProblem(splitter.headerText, folded.includes(null)),
    needsTransportEncoding: scanner.scanner.needsEncoding,
  };
}

// The header section is a latin1 string: one character per byte.
function headerProblem(headerText: string, unfoldable: boolean): ContentProblem | null {
  if (headerText.includes('\0')) return 'nul';
  if (/[^\x00-\x7f]/.test(headerText)) return 'eight-bit-header';
  return unfoldable ? 'long-header-line' : null;
}
