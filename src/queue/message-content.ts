import { Readable } from 'node:stream';
import type { Spool } from './spool.js';

const CRLF = Buffer.from('\r\n');

/** A queued message's bytes as they go out: signature fields (if any), the stored header, the blank line, the body (inline, or streamed from its spool file). */
export function messageStream(spool: Spool, message: { header: Buffer; body: Buffer | null; bodyFile: string }, signature: Buffer = Buffer.alloc(0)): Readable {
  return Readable.from(
    (async function* () {
      // Small messages go out in one write.
      if (message.body) {
        yield Buffer.concat([signature, message.header, CRLF, message.body]);
        return;
      }
      yield Buffer.concat([signature, message.header, CRLF]);
      yield* spool.read(message.bodyFile) as AsyncIterable<Buffer>;
    })(),
    { objectMode: false },
  );
}
