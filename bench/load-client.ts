import { performance } from 'node:perf_hooks';
import type { BenchMessage } from './bench-message.js';
import { SmtpClientSession, UnexpectedReply, type SessionTarget, type SmtpReply } from './smtp-client-session.js';

export interface LoadOptions {
  target: SessionTarget;
  message: BenchMessage;
  messages: number;
  connections: number;
  newConnectionPerMessage: boolean;
}

export interface LoadResult {
  /** performance.now() when the sessions started connecting. */
  startedAt: number;
  /** performance.now() of the last 250 that accepted a message (startedAt when none did). */
  lastAcceptedAt: number;
  accepted: number;
  /** Time to 250 of each accepted message in ms, in no particular order. */
  latenciesMs: Float64Array;
  /** Messages that were not accepted, counted by the reply or error that stopped them. */
  failures: Map<string, number>;
  /** Sessions that did not end with 221 after QUIT (their messages were accepted before). */
  sessionErrors: Map<string, number>;
}

/**
 * Submits `messages` messages over `connections` concurrent sessions. Each session takes the next message number
 * until none is left, so a slow session does not hold back the others. The time to 250 runs from the MAIL command
 * (from the TCP connect when each message has its own connection, since the handshake is then part of sending it)
 * to the reply to the end of data.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = new Float64Array(options.messages);
  const result: LoadResult = {
    startedAt: performance.now(),
    lastAcceptedAt: 0,
    accepted: 0,
    latenciesMs: latencies,
    failures: new Map(),
    sessionErrors: new Map(),
  };
  result.lastAcceptedAt = result.startedAt;
  let next = 0;
  const take = () => (next < options.messages ? next++ : -1);

  const worker = async () => {
    let session: SmtpClientSession | null = null;
    for (let index = take(); index >= 0; index = take()) {
      const connectStart = performance.now();
      try {
        session ??= await SmtpClientSession.open(options.target);
        const start = options.newConnectionPerMessage ? connectStart : performance.now();
        const refusal = await sendOne(session, options.message, index);
        if (refusal) count(result.failures, refusal);
        else {
          const now = performance.now();
          latencies[result.accepted++] = now - start;
          result.lastAcceptedAt = now;
        }
      } catch (error) {
        // The session is unusable; the next message opens a new one.
        count(result.failures, describe(error));
        session?.destroy();
        session = null;
        continue;
      }
      if (options.newConnectionPerMessage) session = await quit(session, result);
    }
    if (session) await quit(session, result);
  };
  await Promise.all(Array.from({ length: options.connections }, worker));
  result.latenciesMs = latencies.subarray(0, result.accepted);
  return result;
}

const STAGES = ['MAIL', 'RCPT', 'DATA', 'end of data'] as const;

/** One transaction; returns why the message was refused, or null when it was accepted. */
async function sendOne(session: SmtpClientSession, message: BenchMessage, index: number): Promise<string | null> {
  const replies = await session.commands([`MAIL FROM:<${message.mailFrom}>\r\n`, `RCPT TO:<${message.recipient(index)}>\r\n`, 'DATA\r\n']);
  const expected = [250, 250, 354];
  if (replies[2]?.code === 354) {
    session.writeAll(message.chunks(index));
    replies.push(await session.reply());
    expected.push(250);
  } else {
    // Nothing was sent; RSET clears whatever MAIL or RCPT left behind so the session can go on.
    const [reset] = await session.commands(['RSET\r\n']);
    if (reset && reset.code !== 250) throw new UnexpectedReply('RSET', reset);
  }
  const wrong = replies.findIndex((reply, step) => reply.code !== expected[step]);
  return wrong === -1 ? null : refusalText(STAGES[wrong] as string, replies[wrong] as SmtpReply);
}

async function quit(session: SmtpClientSession, result: LoadResult): Promise<null> {
  try {
    await session.quit();
  } catch (error) {
    count(result.sessionErrors, describe(error));
    session.destroy();
  }
  return null;
}

function refusalText(stage: string, reply: SmtpReply): string {
  return `${stage}: ${reply.lines[reply.lines.length - 1]}`;
}

function describe(error: unknown): string {
  if (error instanceof UnexpectedReply) return refusalText(error.stage, error.reply);
  return `session: ${(error as Error).message}`;
}

function count(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}
