import type { ReceivedMessage } from '../test/support/sink-mx.js';
import { messageId } from './fuzz/sink-audit.js';
import type { Prng } from './prng.js';
import { SmtpClientSession, type SessionTarget } from './smtp-client-session.js';

export interface SubmissionLoad {
  /** Message id of each message the gateway answered `250 Ok <id>`, with the token the message carries. */
  acked: Map<string, string>;
  /** Tokens of messages whose end of data was sent but whose reply never came (the connection died first). */
  unconfirmed: Set<string>;
  /** Messages refused, by reply. */
  refused: Map<string, number>;
  /** The body size drawn for each message whose data was sent, by token: `trialBody(size)` is the body it carried. */
  bodySizes: Map<string, number>;
}

export interface LoadSpec {
  target: SessionTarget;
  clients: number;
  senderDomain: string;
  recipientDomain: string;
  /** Names the trial in every token. */
  trial: number;
  rng: Prng;
  /** Aborted: the clients stop starting messages. */
  signal: AbortSignal;
}

/** The header that carries a message's token, so a delivered message can be told apart from every other. */
export const TOKEN_HEADER = 'X-Crash-Trial';

/** Of every this many messages, one is large enough to be spooled to a file instead of the queue row. */
const LARGE_EVERY = 10;
const LARGE_BYTES = 200 * 1024;
const SMALL_BYTES = 2 * 1024;
const BODY_LINE = 'crash trial body text, a line of an ordinary message of ordinary length.\r\n';

/**
 * Starts clients submitting over STARTTLS + AUTH (bench/smtp-client-session.ts), each message after the previous
 * one's reply, MAIL/RCPT/DATA pipelined. A session that fails is replaced by a new one until `signal`. `load` fills
 * as replies come; `finished` resolves once every client has stopped.
 */
export function startSubmitting(spec: LoadSpec): { load: SubmissionLoad; finished: Promise<void> } {
  const load: SubmissionLoad = { acked: new Map(), unconfirmed: new Set(), refused: new Map(), bodySizes: new Map() };
  let sequence = 0;
  const client = async (clientIndex: number) => {
    while (!spec.signal.aborted) {
      let session: SmtpClientSession;
      try {
        session = await SmtpClientSession.open(spec.target);
      } catch {
        // The gateway is down (killed, not yet restarted): try again shortly unless the load is over.
        await new Promise((resolve) => setTimeout(resolve, 20));
        continue;
      }
      try {
        while (!spec.signal.aborted) {
          const token = `${spec.trial}-${clientIndex}-${sequence++}`;
          await submitOne(session, spec, token, load);
        }
        await session.quit().catch(() => undefined);
      } catch {
        session.destroy();
      }
    }
  };
  return { load, finished: Promise.all(Array.from({ length: spec.clients }, (_, index) => client(index))).then(() => undefined) };
}

async function submitOne(session: SmtpClientSession, spec: LoadSpec, token: string, load: SubmissionLoad): Promise<void> {
  const recipient = `${token}@${spec.recipientDomain}`;
  const [mail, rcpt, data] = await session.commands([`MAIL FROM:<sender@${spec.senderDomain}>\r\n`, `RCPT TO:<${recipient}>\r\n`, 'DATA\r\n']);
  if (data?.code !== 354) {
    const refusal = [mail, rcpt, data].find((reply) => reply && reply.code >= 400);
    count(load.refused, refusal?.lines.join(' ') ?? 'no reply');
    const [reset] = await session.commands(['RSET\r\n']);
    if (reset?.code !== 250) throw new Error('RSET refused');
    return;
  }
  const size = spec.rng.int(LARGE_EVERY) === 0 ? LARGE_BYTES : SMALL_BYTES;
  const headers = [`From: Sender <sender@${spec.senderDomain}>`, `To: <${recipient}>`, `Subject: crash trial ${token}`, `${TOKEN_HEADER}: ${token}`, '', ''].join('\r\n');
  load.bodySizes.set(token, size);
  session.writeAll([Buffer.from(`${headers}${trialBody(size)}.\r\n`, 'latin1')]);
  let reply;
  try {
    reply = await session.reply();
  } catch (error) {
    load.unconfirmed.add(token);
    throw error;
  }
  const id = /^250 Ok (\S+)/.exec(reply.lines[reply.lines.length - 1] ?? '')?.[1];
  if (id) load.acked.set(id, token);
  else count(load.refused, reply.lines.join(' '));
}

/** The body of a message of `size` bytes, rounded up to whole lines (so the end of data follows a CRLF). */
export function trialBody(size: number): string {
  return BODY_LINE.repeat(Math.ceil(size / BODY_LINE.length));
}

/** The token a delivered message carries ('' when it has none). */
export function tokenOf(raw: Buffer): string {
  const end = raw.indexOf('\r\n\r\n');
  return new RegExp(`^${TOKEN_HEADER}: *(\\S+)`, 'im').exec(raw.subarray(0, end === -1 ? raw.length : end).toString('latin1'))?.[1] ?? '';
}

/** Delivered messages grouped by the gateway's message id, the local part of the Message-ID it gave each. */
export function copiesById(received: readonly ReceivedMessage[]): Map<string, ReceivedMessage[]> {
  const copies = new Map<string, ReceivedMessage[]>();
  for (const message of received) {
    const id = /^<([^@>]+)@/.exec(messageId(message.raw) ?? '')?.[1] ?? '(no Message-ID)';
    copies.set(id, [...(copies.get(id) ?? []), message]);
  }
  return copies;
}

function count(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
