import type { AttachmentStream, HeaderLines, HeaderValue, Headers, StructuredHeader } from 'mailparser';
import { loadMailparser } from './load-mailparser.js';

/** A MIME part of a report that is not its human-readable text (the machine-readable report, the returned message). */
export interface ReportPart {
  contentType: string;
  content: Buffer;
}

/** What intake reads of a received feedback message: its top-level header fields and its non-text parts. */
export interface FeedbackMessage {
  /** Top-level header values by lower-case name; a repeated field gives its first value. */
  header(name: string): string | undefined;
  /** The Date header; undefined when absent or unreadable. */
  date: Date | undefined;
  messageId: string | undefined;
  /** The report-type parameter of a multipart/report (e.g. delivery-status, feedback-report), lower case. */
  reportType: string | undefined;
  parts: ReportPart[];
}

// The parts intake reads are a few KB; a returned original message is kept whole only up to this size.
const MAX_PART_BYTES = 256 * 1024;
// A message whose structure is deeper or wider than any report's is not a report.
const MAX_CHILD_NODES = 256;

const PARSER_OPTIONS = {
  keepDeliveryStatus: true,
  skipHtmlToText: true,
  skipTextToHtml: true,
  skipTextLinks: true,
  skipImageLinks: true,
  checksumAlgo: false,
  // The returned message of a report is read as a part (its header section), not as more text of the report.
  ignoreEmbedded: true,
  maxChildNodes: MAX_CHILD_NODES,
} as const;

function firstString(value: HeaderValue | undefined): string | undefined {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && typeof value[0] === 'string') return value[0];
  return undefined;
}

/** The Date field read from its line: mailparser gives the current time for a date it cannot read. */
function readDate(lines: HeaderLines): Date | undefined {
  const line = lines.find((candidate) => candidate.key === 'date')?.line;
  const ms = line === undefined ? NaN : Date.parse(line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim());
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function readPart(attachment: AttachmentStream, parts: ReportPart[]): void {
  const chunks: Buffer[] = [];
  let size = 0;
  attachment.content.on('data', (chunk: Buffer) => {
    if (size < MAX_PART_BYTES) chunks.push(chunk);
    size += chunk.length;
  });
  attachment.content.on('end', () => {
    parts.push({ contentType: attachment.contentType.toLowerCase(), content: Buffer.concat(chunks).subarray(0, MAX_PART_BYTES) });
    attachment.release?.();
  });
}

/** Parses a received message with mailparser (MIME structure, transfer encodings, charsets). Rejects what is not MIME at all. */
export async function parseFeedbackMessage(raw: Buffer): Promise<FeedbackMessage> {
  const { MailParser } = await loadMailparser();
  return new Promise((resolve, reject) => {
    const parser = new MailParser(PARSER_OPTIONS);
    const parts: ReportPart[] = [];
    let headers: Headers = new Map();
    parser.on('headers', (parsed: Headers) => (headers = parsed));
    parser.on('data', (data: AttachmentStream | { type: 'text' }) => {
      if (data.type === 'attachment') readPart(data, parts);
    });
    parser.on('error', reject);
    parser.on('end', () => {
      const contentType = headers.get('content-type') as StructuredHeader | undefined;
      resolve({
        header: (name) => firstString(headers.get(name)),
        date: readDate(parser.headerLines || []),
        messageId: firstString(headers.get('message-id')),
        reportType: contentType?.value.toLowerCase() === 'multipart/report' ? contentType.params['report-type']?.toLowerCase() : undefined,
        parts,
      });
    });
    parser.end(raw);
  });
}
