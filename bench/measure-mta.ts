import type { promises as dns } from 'node:dns';
import { performance } from 'node:perf_hooks';
import type { BenchMessage } from './bench-message.js';
import type { WorkloadShape } from './bench-workloads.js';
import { dkimFailure } from './dkim-check.js';
import { runLoad } from './load-client.js';
import { submissionTargets, type MtaUnderTest } from './mta-under-test.js';
import { treeCpuSeconds } from './process-cpu.js';
import { TreeMemorySampler } from './process-memory.js';
import type { TokenSink } from './token-sink-process.js';

export interface RunSpec {
  workload: WorkloadShape;
  /** 1, 2, … within the workload. */
  run: number;
  /** Names the run in every message's token, unique within the bench. */
  tag: string;
  message: BenchMessage;
  /** Open loop at this many messages per second; absent: closed loop. */
  openLoopPerSecond?: number;
  drainTimeoutSeconds: number;
  /** Delivered messages to verify the DKIM signature of (spread over the run). */
  dkimSamples: number;
  /** The domain whose signature must pass, and the resolver that has its public keys. */
  dkim: { domain: string; resolver: dns.Resolver };
}

export interface RunResult {
  mta: string;
  kind: MtaUnderTest['kind'];
  workload: WorkloadShape['name'];
  run: number;
  /** Open loop: the scheduled rate; null in the closed loop. */
  offeredPerSecond: number | null;
  submitted: number;
  accepted: number;
  /** Accepted messages per second, from the first connection (open loop: the first scheduled time) to the last 250. */
  acceptedPerSecond: number;
  /** Accepted messages that reached the sink (each counted once). */
  delivered: number;
  /** Accepted messages per second, from the start until the sink had every one of them; null when it never did. */
  deliveredPerSecond: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  /** CPU time of the relay's processes (all of them, exited children included) per delivered message. */
  cpuMsPerMessage: number | null;
  /** The largest total Pss of the relay's processes, sampled every 2 s during the run (RUN_MEMORY_SAMPLE_MS). */
  peakPssMiB: number;
  /** Accepted but not at the sink when delivery stopped making progress. */
  lost: number;
  /** Copies at the sink beyond the first, over the run's messages. */
  duplicated: number;
  /** At the sink although the client saw no 250 (its connection failed after the MTA had taken the message). */
  deliveredUnacknowledged: number;
  /** Messages not accepted, by the reply or error that stopped them. */
  refusals: Record<string, number>;
  sessionErrors: Record<string, number>;
  /** Delivered messages whose DKIM signature was verified, and what was wrong with those that did not pass. */
  dkim: { checked: number; failures: string[] };
}

/**
 * How often a run samples the relay's memory. Reading a process's smaps_rollup holds its memory map's lock while the
 * kernel walks its pages, and the process waits for it to map or free memory (a GC does both): sampled every 500 ms,
 * the open loop's slow messages came in clusters at that period. Memory moves slowly; the figure the issue sets is
 * the idle-sessions one, sampled apart.
 */
const RUN_MEMORY_SAMPLE_MS = 2000;

const epoch = (performanceTime: number) => performance.timeOrigin + performanceTime;

/** Sends one run of a workload through one MTA and waits until the sink has every accepted message or delivery stalls. */
export async function measureRun(mta: MtaUnderTest, sink: TokenSink, spec: RunSpec): Promise<RunResult> {
  const { workload } = spec;
  await sink.expect(spec.tag, Math.max(1, Math.ceil(workload.messages / spec.dkimSamples)));
  const roots = mta.processRoots();
  const memory = new TreeMemorySampler(roots, RUN_MEMORY_SAMPLE_MS);
  const cpuBefore = treeCpuSeconds(roots);
  const load = await runLoad({
    targets: submissionTargets(mta),
    message: spec.message,
    messages: workload.messages,
    connections: workload.connections,
    messagesPerConnection: workload.messagesPerConnection,
    openLoopIntervalMs: spec.openLoopPerSecond === undefined ? undefined : 1000 / spec.openLoopPerSecond,
  });
  const idleMs = spec.drainTimeoutSeconds * 1000;
  const accepted = new Set(load.acceptedIndexes);
  let drained = await sink.waitFor(spec.tag, accepted.size, idleMs);
  let arrivals = await sink.result(spec.tag);
  let missing = [...accepted].filter((index) => !arrivals.received.has(index)).length;
  if (missing > 0 && drained.reachedAt !== null) {
    // The count was reached with messages the client saw no 250 for; wait for the acknowledged ones still missing.
    drained = await sink.waitFor(spec.tag, arrivals.received.size + missing, idleMs);
    arrivals = await sink.result(spec.tag);
    missing = [...accepted].filter((index) => !arrivals.received.has(index)).length;
  }
  const cpuSeconds = treeCpuSeconds(roots) - cpuBefore;
  const peakPssMiB = await memory.stop();
  const delivered = accepted.size - missing;

  const failures: string[] = [];
  for (const [index, raw] of arrivals.samples) {
    const failure = await dkimFailure(raw, spec.dkim.domain, spec.dkim.resolver);
    if (failure) failures.push(`message ${index}: ${failure}`);
  }
  const seconds = (end: number) => (end - epoch(load.startedAt)) / 1000;
  // A typed array sorts numerically.
  const latencies = load.latenciesMs.slice().sort();
  return {
    mta: mta.name,
    kind: mta.kind,
    workload: workload.name,
    run: spec.run,
    offeredPerSecond: spec.openLoopPerSecond ?? null,
    submitted: workload.messages,
    accepted: load.accepted,
    acceptedPerSecond: load.accepted > 0 ? load.accepted / ((load.lastAcceptedAt - load.startedAt) / 1000) : 0,
    delivered,
    deliveredPerSecond: load.accepted > 0 && missing === 0 && drained.reachedAt !== null ? delivered / seconds(drained.reachedAt) : null,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuMsPerMessage: delivered > 0 ? (cpuSeconds * 1000) / delivered : null,
    peakPssMiB,
    lost: missing,
    duplicated: arrivals.duplicates,
    deliveredUnacknowledged: [...arrivals.received].filter((index) => !accepted.has(index)).length,
    refusals: Object.fromEntries(load.failures),
    sessionErrors: Object.fromEntries(load.sessionErrors),
    dkim: { checked: arrivals.samples.size, failures },
  };
}

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: Float64Array, fraction: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.ceil(fraction * sorted.length) - 1)] as number;
}
