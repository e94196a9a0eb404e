import type { HttpListenerConfig } from '../../config/http-options.js';
import type { GatewayConfig, ListenerConfig } from '../../config/schema.js';
import type { AuthBlockEntry } from '../../smtp/auth-throttle.js';
import type { SubmissionOutcome } from '../../submission/submit-message.js';

/**
 * What the primary tells a session worker. An answer's error keeps only its message, and the store when it was a
 * StoreUnavailableError (the cluster's Redis away), which the worker's sessions answer as a temporary failure.
 */
export type ToWorker =
  | { kind: 'start'; config: GatewayConfig; ticketKeys: Buffer }
  | { kind: 'reload-tls' }
  | { kind: 'stop-accepting' }
  /** A metrics scrape: send the counts kept since the last 'metrics' message now, then 'metrics-flushed' with the same id. */
  | { kind: 'flush-metrics'; id: number }
  | { kind: 'stop' }
  | { kind: 'answers'; answers: CallAnswer[] }
  /** Cluster mode: the nodes the primary last saw alive, which a worker's send limiter divides the rate by while Redis is away. */
  | { kind: 'fleet-nodes'; nodes: number }
  /** A TLS 1.2 session another worker made, relayed so that a client resuming it here finds it. */
  | { kind: 'tls-session'; id: string; data: Uint8Array }
  /** AUTH blocks in force (every one when the worker starts, then those each blocking failure set), checked before AUTH. */
  | { kind: 'auth-blocks'; entries: AuthBlockEntry[] };

/** The outcome of a PrimaryCall. */
export interface CallAnswer {
  id: number;
  value: unknown;
  error?: string;
  unavailableStore?: string;
}

/**
 * The primary's services a worker calls (see app/workers/primary-calls.ts): the session gate, the group commit and the
 * send limiter (outside cluster mode), each kept once per node. An id of -1 asks for no answer.
 */
export interface PrimaryCall {
  id: number;
  name: string;
  args: unknown[];
}

/** The fields of an error that survive the trip to the primary (system errors keep their code, syscall and path). */
export interface WorkerError {
  message: string;
  code?: string;
  syscall?: string;
  path?: string;
  address?: string;
  port?: number;
}

/** What a session worker tells the primary. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'listening'; smtp: Array<{ config: ListenerConfig; port: number }>; api: Array<{ config: HttpListenerConfig; port: number }> }
  | { kind: 'failed'; error: WorkerError }
  | { kind: 'not-accepting' }
  | { kind: 'metrics-flushed'; id: number }
  | { kind: 'calls'; calls: PrimaryCall[] }
  /** A TLS 1.2 session this worker made, for the primary to relay to the other workers. */
  | { kind: 'tls-session'; id: string; data: Uint8Array }
  /** sendLimitChecks: seconds each send-rate and quota check took, as the sessions waited for it. */
  | { kind: 'metrics'; submissions: SubmissionOutcome[]; apiRequests: Array<{ operation: string; status: string }>; sendLimitChecks: number[] };

export function workerError(error: unknown): WorkerError {
  const fields = error as Partial<WorkerError>;
  return {
    message: error instanceof Error ? error.message : String(error),
    ...(typeof fields.code === 'string' ? { code: fields.code } : {}),
    ...(typeof fields.syscall === 'string' ? { syscall: fields.syscall } : {}),
    ...(typeof fields.path === 'string' ? { path: fields.path } : {}),
    ...(typeof fields.address === 'string' ? { address: fields.address } : {}),
    ...(typeof fields.port === 'number' ? { port: fields.port } : {}),
  };
}

/** The worker's error as an Error of the primary, so the CLI reports it as it would its own. */
export function rebuildError({ message, ...fields }: WorkerError): Error {
  return Object.assign(new Error(message), fields);
}
