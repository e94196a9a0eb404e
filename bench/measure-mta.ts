import type { BenchMessage } from './bench-message.js';
import { runLoad } from './load-client.js';
import { submissionTarget, type MtaUnderTest } from './mta-under-test.js';
import type { SmtpSink } from './smtp-sink-process.js';

export interface Workload {
  messages: number;
  size: number;
  connections: number;
  newConnectionPerMessage: boolean;
  message: BenchMessage;
  drainTimeoutSeconds: number;
}

export interface MtaResult {
  mta: string;
  notes: string[];
  submitted: number;
  accepted: number;
  /** Accepted messages per second, from the first connection to the last 250. */
  acceptedPerSecond: number;
  /** Messages that reached the sink. */
  delivered: number;
  /** Delivered messages per second, from the first connection until the sink had every accepted message; null when it never did. */
  deliveredPerSecond: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  peakRssMiB: number | null;
  /** Accepted but not at the sink when delivery stopped making progress. */
  lost: number;
  /** Messages not accepted, by the reply or error that stopped them. */
  refusals: Record<string, number>;
  sessionErrors: Record<string, number>;
}

/** Sends the workload through one MTA and waits until the sink has every accepted message or delivery stalls. */
export async function measureMta(mta: MtaUnderTest, sink: SmtpSink, workload: Workload, progress: (line: string) => void): Promise<MtaResult> {
  const before = sink.arrivals().count;
  const memory = mta.watchMemory();
  progress(`${mta.name}: submitting ${workload.messages} messages of ${workload.size} bytes over ${workload.connections} connections`);
  const load = await runLoad({
    target: submissionTarget(mta),
    message: workload.message,
    messages: workload.messages,
    connections: workload.connections,
    newConnectionPerMessage: workload.newConnectionPerMessage,
  });
  progress(`${mta.name}: ${load.accepted} accepted; waiting for the sink (giving up after ${workload.drainTimeoutSeconds} s without a delivery)`);
  const drained = await sink.waitForCount(before + load.accepted, workload.drainTimeoutSeconds * 1000);
  const peakRssMiB = memory();
  const delivered = drained.count - before;
  const seconds = (end: number) => (end - load.startedAt) / 1000;
  // A typed array sorts numerically.
  const latencies = load.latenciesMs.slice().sort();
  return {
    mta: mta.name,
    notes: mta.notes,
    submitted: workload.messages,
    accepted: load.accepted,
    acceptedPerSecond: load.accepted > 0 ? load.accepted / seconds(load.lastAcceptedAt) : 0,
    delivered,
    deliveredPerSecond: load.accepted > 0 && drained.reachedAt !== null ? delivered / seconds(drained.reachedAt) : null,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    peakRssMiB,
    lost: Math.max(0, load.accepted - delivered),
    refusals: Object.fromEntries(load.failures),
    sessionErrors: Object.fromEntries(load.sessionErrors),
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}
