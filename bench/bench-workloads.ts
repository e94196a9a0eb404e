/** The shape of a closed-loop workload: what is sent, over how many sessions, how many messages per session. */
export interface WorkloadShape {
  name: WorkloadName;
  messages: number;
  size: number;
  connections: number;
  messagesPerConnection: number;
}

export type WorkloadName = 'reuse' | 'per-connection' | 'large';

export interface WorkloadDefinition extends Omit<WorkloadShape, 'name'> {
  /** What it is, in the words of the table. */
  title: string;
  /** The target for relaygate's delivered msg/s over the reference Postfix's. */
  targetRatio: number;
}

/** The workloads (issue 10), all over STARTTLS + AUTH PLAIN with MAIL, RCPT and DATA pipelined. */
export const WORKLOADS: Record<WorkloadName, WorkloadDefinition> = {
  reuse: { title: '50 messages per connection + PIPELINING', messages: 5000, size: 2048, connections: 20, messagesPerConnection: 50, targetRatio: 3 },
  'per-connection': { title: 'a new connection (STARTTLS + AUTH) per message', messages: 5000, size: 2048, connections: 20, messagesPerConnection: 1, targetRatio: 2 },
  large: { title: '100 KB messages, 50 per connection', messages: 1000, size: 100 * 1024, connections: 20, messagesPerConnection: 50, targetRatio: 2 },
};

export const WORKLOAD_NAMES = Object.keys(WORKLOADS) as WorkloadName[];

/** The other targets. */
export const TARGETS = {
  /** relaygate's CPU per message over the reference Postfix's, at most. */
  cpuRatio: 1 / 3,
  /** p99 time to 250 in the open loop at 80 % of the peak, below (ms). */
  openLoopP99Ms: 50,
  /** The relay's memory with 1,000 idle sessions open, below (MB, 10^6 bytes). */
  idleSessionsMB: 300,
};

/** Messages per second for the open loop: fixed, or a percentage of the MTA's own peak in the reuse workload. */
export type OpenLoopRate = { perSecond: number } | { percentOfPeak: number };
