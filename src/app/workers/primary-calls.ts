import type { MessageAcceptor } from '../../queue/message-acceptor.js';
import type { QueuedMessage } from '../../queue/queued-message.js';
import type { AcquireRequest, SendLimiter } from '../../ratelimit/send-limiter.js';
import type { LocalSessionGate } from '../../smtp/session-gate.js';

/**
 * What session workers ask of the primary, by name: the node's one session gate (connection counts, AUTH throttle),
 * its one group commit (a single writer of queue.db: SQLite lets one process write at a time, and processes that
 * wait for its lock sleep instead of queueing) and its one send limiter (limits.db, likewise). TLS 1.2 sessions are
 * not asked for: each worker keeps them (remote-services.ts, SharedTlsSessions).
 */
export function primaryCalls(gate: LocalSessionGate, acceptor: MessageAcceptor, limiter: SendLimiter) {
  return {
    'gate.admit': (address: string) => gate.admit(address),
    'gate.release': (address: string) => gate.release(address),
    'gate.authFailed': (userName: string, address: string) => gate.authFailed(userName, address),
    'gate.authSucceeded': (userName: string, address: string) => gate.authSucceeded(userName, address),
    'acceptor.commit': (message: QueuedMessage, directory: string | null) => acceptor.commitSynced(message, directory),
    'limiter.acquire': (request: AcquireRequest) => limiter.acquire(request),
    'limiter.sentLast24Hours': (key: string, now?: number) => limiter.sentLast24Hours(key, now),
  };
}

export type PrimaryCalls = ReturnType<typeof primaryCalls>;
export type PrimaryCallName = keyof PrimaryCalls;
