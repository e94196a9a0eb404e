import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { Splitter, type MimeNode } from '@zone-eu/mailsplit';

/** A leaf MIME part by what it means: its type and decoded content; an attached message by its own parts. */
export interface DecodedPart {
  contentType: string;
  content: Buffer | DecodedPart[];
}

/**
 * The leaf parts of a message, decoded from their transfer encoding (mailsplit's decoders), in order: what a
 * reader sees, so that a message and its re-encoded form can be compared for meaning.
 */
export async function decodedParts(raw: Buffer): Promise<DecodedPart[]> {
  const leaves: Array<{ node: MimeNode; chunks: Buffer[] }> = [];
  for await (const item of Readable.from([raw]).pipe(new Splitter({ ignoreEmbedded: true })) as AsyncIterable<{ type: string; value?: Buffer }>) {
    if (item.type === 'node' && !(item as unknown as MimeNode).multipart) leaves.push({ node: item as unknown as MimeNode, chunks: [] });
    else if (item.type === 'body') leaves[leaves.length - 1]!.chunks.push(item.value!);
  }
  return Promise.all(
    leaves.map(async ({ node, chunks }) => {
      const content = await buffer(Readable.from([Buffer.concat(chunks)]).pipe(node.getDecoder()));
      const contentType = node.contentType || 'text/plain';
      return { contentType, content: contentType === 'message/rfc822' ? await decodedParts(content) : content };
    }),
  );
}

/** The lines of a message (split at CRLF) that SMTP cannot carry: longer than 998 bytes, or holding a bare CR or LF. */
export function unsendableLines(raw: Buffer): string[] {
  return raw
    .toString('latin1')
    .split('\r\n')
    .filter((line) => line.length > 998 || /[\r\n]/.test(line))
    .map((line) => `${JSON.stringify(line.slice(0, 60))}… (${line.length} bytes)`);
}
