import { Readable } from 'node:stream';
import type { Spool } from './spool.js';

const CRLF = Buffer.from('\r\n');

type StoredContent = { header: Buffer; body: Buffer | null; bodyFile: string };

/** A queued message's bytes without copying them into one: the stored header, the blank line, the body (inline, or read from its spool file). */
export async function* messageParts(spool: Spool, message: StoredContent): AsyncGenerator<Buffer> {
  yield message.header;
  yield CRLF;
  yield* bodyChunks(spool, message);
}

async function* bodyChunks(spool: Spool, message: StoredContent): AsyncGenerator<Buffer> {
  if (message.body) yield message.body;
  else yield* spool.read(message.bodyFile) as AsyncIterable<Buffer>;
}

/** Bodies up to this size go out in the same write as the header; a larger one follows it as it is, uncopied. */
const ONE_WRITE_BODY_LIMIT = 16 * 1024;

/** A queued message's bytes as they go out: signature fields (if any), the stored header, the blank line, the body (inline, or streamed from its spool file). */
export function messageStream(spool: Spool, message: StoredContent, signature: Buffer = Buffer.alloc(0)): Readable {
  return Readable.from(
    (async function* () {
      // Small messages go out in one write.
      if (message.body && message.body.length <= ONE_WRITE_BODY_LIMIT) {
        yield Buffer.concat([signature, message.header, CRLF, message.body]);
        return;
      }
      yield Buffer.concat([signature, message.header, CRLF]);
      yield* bodyChunks(spool, message);
    })(),
    { objectMode: false },
  );
}
