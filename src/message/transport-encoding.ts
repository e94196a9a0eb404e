import { isAscii } from 'node:buffer';
import { Duplex, pipeline as pipelineCallback, Readable, type Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Joiner, Splitter, type MimeNode, type SplitterChunk, type SplitterOptions } from '@zone-eu/mailsplit';
import { Encoder as Base64Encoder } from 'nodemailer/lib/base64';
import { Encoder as QuotedPrintableEncoder } from 'nodemailer/lib/qp';
import { foldLongLines } from './header-folding.js';
import { LineScanner } from './line-scanner.js';
import { readMessage, type ContentProblem, type MessageLimits, type ReadMessage } from './message-reader.js';
import { Base64Repair, QuotedPrintableRepair } from './transfer-encoding-repair.js';

class ContentRefusal extends Error {
  constructor(readonly problem: ContentProblem) {
    super(problem);
  }
}

/** Whether a part is known to need re-encoding (true, false) or may (inside an attached message, which is re-encoded whole). */
type NeedsEncoding = boolean | 'unknown';

const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);

/**
 * Makes a message one that any SMTP server takes and no hop needs to change (RFC 5321 4.5.3.1.6, RFC 6152): the
 * MIME parts (RFC 2045) with 8-bit bytes or lines over 998 bytes are re-encoded, text as quoted-printable, the rest
 * as base64, and a part already labelled quoted-printable or base64 is mended (see transfer-encoding-repair.ts);
 * header lines over 998 bytes are folded. The other parts and the MIME structure stay byte for byte as they were.
 *
 * `open` gives the message as received (header section, blank line, body) and is read twice, streaming: once to find
 * the parts to re-encode, once to write the re-encoded message into `body` (read as readMessage reads DATA). The
 * result is `received` with `problem` set when the message cannot be made clean: 8-bit bytes in a part's header
 * fields, a header line that cannot be folded, or a part whose content cannot be re-encoded (an unknown
 * transfer encoding, text outside the parts, content under multipart/signed, which re-encoding would break).
 */
export async function encodeForTransport(received: ReadMessage, open: () => NodeJS.ReadableStream, body: Writable, limits: MessageLimits): Promise<ReadMessage> {
  const options: SplitterOptions = {
    maxHeadSize: mimeHeadSizeFor(limits.maxHeaderBytes),
    // An attached message is a leaf: one that needs it is re-encoded part by part (encodeParts).
    ignoreEmbedded: true,
  };
  try {
    const dirty = await partsToEncode(open(), options);
    // The client's size limit applies to what it sent, not to the re-encoded form (base64 adds a third, quoted-printable
    // of 8-bit text up to twice as much), whose header section is the received one, folded, plus two fields at most.
    const encoded = await readMessage(open(), body, { maxBytes: Infinity, maxHeaderBytes: Infinity }, new Splitter(options), Duplex.from(encodeParts(dirty, options)), new Joiner());
    return encoded.needsTransportEncoding ? { ...received, problem: encoded.problem ?? 'unencodable-part' } : encoded;
  } catch (error) {
    if (error instanceof ContentRefusal) return { ...received, problem: error.problem };
    if (isPastMimeLimits(error)) {
      // Found while looking for the parts to re-encode, before anything was written: `body` ends as a refused one does.
      body.destroy(error as Error);
      return { ...received, problem: 'mime-too-large' };
    }
    throw error;
  }
}

/**
 * mailsplit's maxHeadSize for header sections of up to `maxHeaderBytes`: every header line costs it at least 64
 * bytes and the shortest has 3 ("a:" CRLF).
 */
export const mimeHeadSizeFor = (maxHeaderBytes: number): number => Math.ceil(64 / 3) * maxHeaderBytes;

/** mailsplit's refusal of a structure past its limits: more than 1,000 parts, or a part header over maxHeadSize. */
export const isPastMimeLimits = (error: unknown): boolean => (error as { code?: string } | null)?.code === 'EMAXLEN';

/** The indexes (in mailsplit's order) of the parts whose content has 8-bit bytes or lines over 998 bytes. */
async function partsToEncode(message: NodeJS.ReadableStream, options: SplitterOptions): Promise<Set<number>> {
  const dirty = new Set<number>();
  let index = -1;
  let content: LineScanner | null = null;
  const endContent = () => {
    content?.end();
    if (content?.needsEncoding) dirty.add(index);
    content = null;
  };
  await pipeline(message, new Splitter(options), async (items: AsyncIterable<SplitterChunk>) => {
    for await (const item of items) {
      if (item.type === 'body') {
        (content ??= new LineScanner()).scan(item.value);
        continue;
      }
      endContent();
      if (item.type === 'node') index++;
    }
    endContent();
  });
  return dirty;
}

/**
 * Re-encodes the parts of a split message that need it (by index in `dirty`, or every one that may with `'all'`),
 * as splitter items a Joiner puts back together.
 */
function encodeParts(dirty: ReadonlySet<number> | 'all', options: SplitterOptions) {
  return async function* (items: AsyncIterable<SplitterChunk>): AsyncGenerator<SplitterChunk> {
    const iterator = items[Symbol.asyncIterator]();
    let index = -1;
    let outside: LineScanner | null = null;
    for (let result = await iterator.next(); !result.done; ) {
      const item = result.value;
      if (item.type === 'data') (outside ??= new LineScanner()).scan(item.value);
      else outside = checkOutside(outside);
      if (item.type !== 'node') {
        yield item;
        result = await iterator.next();
        continue;
      }
      index++;
      checkHeaderFields(item);
      // Header changes must come first: the joiner takes a part's header section when it gets the part.
      const encoding = transportEncoding(item, dirty === 'all' ? 'unknown' : dirty.has(index));
      yield item;
      if (encoding === null) {
        result = await iterator.next();
        continue;
      }
      const content = new PartContent(iterator);
      const encoded = encoding === 'message' ? encodeAttachedMessage(content.chunks(), options) : pipelineCallback(Readable.from(content.chunks()), encoding, () => undefined);
      for await (const value of encoded) yield { node: item, type: 'body', value: value as Buffer };
      result = content.following!;
    }
    checkOutside(outside);
  };
}

/** A part's content items, as bytes, taken from the items of a split message; `following` is the item after them. */
class PartContent {
  following: IteratorResult<SplitterChunk> | null = null;

  constructor(private readonly iterator: AsyncIterator<SplitterChunk>) {}

  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const result = await this.iterator.next();
      if (result.done || result.value.type !== 'body') {
        this.following = result;
        return;
      }
      yield result.value.value;
    }
  }
}

/** Text outside the parts (preamble, epilogue) is not content anyone decodes: it cannot be re-encoded, only refused. */
function checkOutside(outside: LineScanner | null): null {
  outside?.end();
  if (outside?.needsEncoding) throw new ContentRefusal('unencodable-part');
  return null;
}

/** SES asks for RFC 2047 encoded-words in header fields; a part's header lines over 998 bytes are folded. */
function checkHeaderFields(node: MimeNode): void {
  if (!node.headers) return;
  if (!isAscii(node.getHeaders())) throw new ContentRefusal('eight-bit-header');
  for (const line of node.headers.getList()) {
    const folded = foldLongLines(line.line);
    if (folded === null) throw new ContentRefusal('long-header-line');
    if (folded === line.line) continue;
    line.line = folded;
    node.headers.changed = true;
  }
}

/**
 * How a part's content is re-encoded: a Transform, 'message' for an attached message (re-encoded part by part, as
 * message/rfc822 takes no encoding but 7bit, 8bit or binary, RFC 2046 5.2.1), or null to leave it as it is. Sets
 * the part's Content-Transfer-Encoding, and MIME-Version on a message that had none.
 */
function transportEncoding(node: MimeNode, needsEncoding: NeedsEncoding): Transform | 'message' | null {
  if (node.multipart || !node.headers || needsEncoding === false) return null;
  if (underSignature(node)) return refuseIf(needsEncoding);
  const encoding = node.encoding || '';
  if (encoding === 'quoted-printable') return new QuotedPrintableRepair();
  if (encoding === 'base64') return new Base64Repair();
  if (!IDENTITY_ENCODINGS.has(encoding)) return refuseIf(needsEncoding);
  const type = node.contentType || 'text/plain';
  if (type === 'message/rfc822') {
    if (encoding !== '7bit' && encoding !== '') node.headers.update('Content-Transfer-Encoding', '7bit');
    return 'message';
  }
  // RFC 2046 5.2.2, 5.2.3: these carry 7-bit data only, as they are.
  if (type === 'message/partial' || type === 'message/external-body') return refuseIf(needsEncoding);
  const text = type.startsWith('text/') || type.startsWith('message/');
  node.headers.update('Content-Transfer-Encoding', text ? 'quoted-printable' : 'base64');
  if (node.root && !node.headers.hasHeader('MIME-Version')) node.headers.add('MIME-Version', '1.0');
  return text ? new QuotedPrintableEncoder() : new Base64Encoder();
}

function refuseIf(needsEncoding: NeedsEncoding): null {
  if (needsEncoding === true) throw new ContentRefusal('unencodable-part');
  return null;
}

/** Whether a part is signed content of multipart/signed (RFC 1847): changing a byte of it breaks the signature. */
function underSignature(node: MimeNode): boolean {
  for (let parent = node.parentNode; parent; parent = parent.parentNode) if (parent.multipart === 'signed') return true;
  return false;
}

/** An attached message with 8-bit bytes or long lines, re-encoded as a message of its own, every part that may need it. */
async function* encodeAttachedMessage(content: AsyncIterable<Buffer>, options: SplitterOptions): AsyncGenerator<Buffer> {
  const splitter = pipelineCallback(Readable.from(content), new Splitter(options), () => undefined);
  for await (const item of encodeParts('all', options)(splitter as AsyncIterable<SplitterChunk>)) yield item.type === 'node' ? item.getHeaders() : item.value;
}
