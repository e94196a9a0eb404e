import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { BenchMessage } from './bench-message.js';
import { SmtpClientSession, UnexpectedReply, type SessionTarget, type SmtpReply } from './smtp-client-session.js';

export interface LoadOptions {
  /** Where sessions connect: each new session takes the next target in turn (a round robin over a cluster's nodes). */
  targets: SessionTarget[];
  message: BenchMessage;
  messages: number;
  connections: number;
  /** Messages a session sends before QUIT; the next message opens a new session (1: a session per message). */
  messagesPerConnection: number;
  /**
   * Open loop: the interval between messages' scheduled times (1000 / rate). The sessions are opened first; then
   * message i is due `i × interval` after that, and is sent at its time or, when no session is free then, as soon as
   * one is, whatever the replies to earlier messages; its time to 250 runs from the time it was due. A session
   * reconnects as soon as it has sent its share, so a handshake delays a message only when no other session is free.
   * Without it (closed loop) each session sends its next message after the reply to the last.
   */
  openLoopIntervalMs?: number;
}

export interface LoadResult {
  /** performance.now() when the sessions started connecting (open loop: when they were all open). */
  startedAt: number;
  /** performance.now() of the last 250 that accepted a message (startedAt when none did). */
  lastAcceptedAt: number;
  accepted: number;
  /** Indexes of the accepted messages. */
  acceptedIndexes: Uint32Array;
  /** Time to 250 of each accepted message in ms, in no particular order. */
  latenciesMs: Float64Array;
  /** Messages that were not accepted, counted by the reply or error that stopped them. */
  failures: Map<string, number>;
  /** Sessions that could not be opened ahead of a message (open loop) or did not end with 221 after QUIT. */
  sessionErrors: Map<string, number>;
}

/**
 * Submits `messages` messages over `connections` concurrent sessions. Each session takes the next message number
 * until none is left, so a slow session does not hold back the others. In the closed loop the time to 250 runs from
 * the MAIL command (from the TCP connect when each message has its own connection, since the handshake is then part
 * of sending it) to the reply to the end of data.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const latencies = new Float64Array(options.messages);
  const acceptedIndexes = new Uint32Array(options.messages);
  const result: LoadResult = {
    startedAt: 0,
    lastAcceptedAt: 0,
    accepted: 0,
    acceptedIndexes,
    latenciesMs: latencies,
    failures: new Map(),
    sessionErrors: new Map(),
  };
  let next = 0;
  const take = () => (next < options.messages ? next++ : -1);
  const interval = options.openLoopIntervalMs;
  let opened = 0;
  const open = () => SmtpClientSession.open(options.targets[opened++ % options.targets.length] as SessionTarget);
  /** Opens a session ahead of the next message; a failure is counted, and the message will try again. */
  const openAhead = async () => {
    try {
      return await open();
    } catch (error) {
      count(result.sessionErrors, describe(error));
      return null;
    }
  };
  const ready = interval === undefined ? [] : await Promise.all(Array.from({ length: options.connections }, openAhead));
  // The open loop's clock starts once its sessions are ready.
  result.startedAt = result.lastAcceptedAt = performance.now();

  const worker = async (first: SmtpClientSession | null = null) => {
    let session = first;
    let sent = 0;
    for (;;) {
      if (interval !== undefined && !session) session = await openAhead();
      const index = take();
      if (index < 0) break;
      const due = interval === undefined ? undefined : result.startedAt + index * interval;
      if (due !== undefined && due > performance.now()) await sleep(due - performance.now());
      const connectStart = performance.now();
      try {
        session ??= await open();
        const start = due ?? (options.messagesPerConnection === 1 ? connectStart : performance.now());
        const refusal = await sendOne(session, options.message, index);
        if (refusal) count(result.failures, refusal);
        else {
          const now = performance.now();
          latencies[result.accepted] = now - start;
          acceptedIndexes[result.accepted++] = index;
          result.lastAcceptedAt = now;
        }
      } catch (error) {
        // The session is unusable; the next message opens a new one.
        count(result.failures, describe(error));
        session?.destroy();
        session = null;
        sent = 0;
        continue;
      }
      if (++sent >= options.messagesPerConnection) {
        session = await quit(session, result);
        sent = 0;
      }
    }
    if (session) await quit(session, result);
  };
  await Promise.all(Array.from({ length: options.connections }, (_, slot) => worker(ready[slot])));
  result.latenciesMs = latencies.subarray(0, result.accepted);
  result.acceptedIndexes = acceptedIndexes.subarray(0, result.accepted);
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
