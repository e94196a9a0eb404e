import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { redisReady } from '../src/cluster/redis-ready.js';
import { urlWithoutPassword } from '../src/common/url-without-password.js';
import { deleteKeys } from '../test/support/test-redis.js';
import { runBenchCommand } from './bench-command.js';
import { benchMessage } from './bench-message.js';
import { RECIPIENT_DOMAIN, SENDER_DOMAIN, startBenchPeers } from './bench-peers.js';
import { describeRun, problemsOf, summarise, type WorkloadReport } from './bench-report.js';
import { WORKLOADS } from './bench-workloads.js';
import { CLUSTER_USAGE, parseClusterOptions, type ClusterBenchOptions } from './cluster-options.js';
import { formatClusterReport, summariseChecks, type AddedLatency, type ClusterBenchReport, type RedisUsage } from './cluster-report.js';
import { measureRun, type RunResult } from './measure-mta.js';
import { combineHistograms, scrapeHistogram, type HistogramSnapshot } from './metrics-histogram.js';
import type { MtaUnderTest } from './mta-under-test.js';
import { addTallies, watchRedisCommands } from './redis-commands.js';
import { startRelaygate, startRelaygateCluster } from './relaygate-target.js';
import type { Teardown } from './teardown.js';

/** Delivered messages per run whose DKIM signature is verified. */
const DKIM_SAMPLES = 10;
const REDIS_CONNECT_TIMEOUT_MS = 10_000;
/** relaygate's histogram of each message's send-rate and quota check: the Redis round trip in cluster mode. */
const SEND_LIMIT_CHECK = 'relaygate_send_limit_check_seconds';

const progress = (line: string) => process.stderr.write(`bench:cluster: ${line}\n`);

async function runClusterBench(options: ClusterBenchOptions, teardown: Teardown): Promise<ClusterBenchReport> {
  const runId = randomBytes(4).toString('hex');
  const workDir = mkdtempSync(join(tmpdir(), 'relaygate-bench-cluster-'));
  teardown.add(`remove ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));

  const redis = new Redis(options.redisUrl, { connectionName: 'relaygate-bench', maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  teardown.add('close the Redis connection', () => redis.disconnect());
  await redisReady(redis, options.redisUrl, REDIS_CONNECT_TIMEOUT_MS);
  const keyPrefix = `relaygate-bench:cluster:${runId}:`;
  // Registered before the nodes, so it runs after they stopped (their last heartbeat removed, leases given back).
  teardown.add(`delete the Redis keys under ${keyPrefix}`, async () => void (await deleteKeys(redis, keyPrefix)));

  const peers = await startBenchPeers(teardown);
  const setup = { dnsServer: peers.dnsServer, mxPort: peers.sink.port, senderDomain: SENDER_DOMAIN, workers: options.workers ?? undefined };
  progress('starting relaygate with its embedded store (the baseline)');
  const baseline = await startRelaygate(workDir, setup);
  teardown.add('stop the baseline relaygate', () => baseline.stop());
  progress(`provisioning the cluster's control plane in ${urlWithoutPassword(options.redisUrl)} under ${keyPrefix}`);
  const cluster = await startRelaygateCluster(workDir, setup, { redisUrl: options.redisUrl, keyPrefix, secretKeyFile: join(workDir, 'cluster-secret.key') });
  teardown.add('stop the cluster nodes', () => cluster.stop());
  // The baseline and the cluster each made their identity's DKIM key.
  for (const record of [...baseline.dkimRecords, ...cluster.dkimRecords]) peers.publishTxt(record.name, record.value);

  let sequence = 0;
  const measure = async (mta: MtaUnderTest, run: number, openLoopPerSecond?: number): Promise<RunResult> => {
    const tag = `${runId}.${++sequence}`;
    progress(`${openLoopPerSecond === undefined ? 'closed loop' : `open loop at ${openLoopPerSecond} msg/s`}, run ${run} of ${options.runs}: ${mta.name}`);
    const result = await measureRun(mta, peers.sink, {
      workload: options.workload,
      run,
      tag,
      message: benchMessage(options.workload.size, SENDER_DOMAIN, RECIPIENT_DOMAIN, tag),
      openLoopPerSecond,
      drainTimeoutSeconds: options.drainTimeoutSeconds,
      dkimSamples: DKIM_SAMPLES,
      dkim: { domain: SENDER_DOMAIN, resolver: peers.resolver },
    });
    progress(`  ${describeRun(result)}`);
    return result;
  };
  const redisUsage: RedisUsage[] = [];
  /** A closed-loop run of the cluster with its Redis commands counted (MONITOR costs a little, so never in the open loop). */
  const measureCounted = async (mta: MtaUnderTest, nodes: number, run: number): Promise<RunResult> => {
    const watch = await watchRedisCommands(redis, keyPrefix);
    let result: RunResult;
    try {
      result = await measure(mta, run);
    } catch (error) {
      await watch.stop().catch(() => undefined);
      throw error;
    }
    const tally = await watch.stop();
    addUsage(redisUsage, { mta: mta.name, nodes, accepted: result.accepted, tally });
    progress(`  Redis: ${tally.commands} commands, ${tally.roundTrips} round trips`);
    return result;
  };

  /** The send-limit checks of each MTA's open-loop runs, summed over its nodes and runs. */
  const checks = new Map<MtaUnderTest, HistogramSnapshot>();
  const scrapeChecks = async (mta: MtaUnderTest) => {
    const [first, ...others] = await Promise.all((mta.metricsPorts ?? []).map((port) => scrapeHistogram(port, SEND_LIMIT_CHECK)));
    if (!first) throw new Error(`${mta.name}: no metrics listener to read ${SEND_LIMIT_CHECK} from`);
    return others.reduce((sum, node) => combineHistograms(sum, node, 1), first);
  };
  const measureOpen = async (mta: MtaUnderTest, run: number, rate: number): Promise<RunResult> => {
    const before = await scrapeChecks(mta);
    const result = await measure(mta, run, rate);
    const during = combineHistograms(await scrapeChecks(mta), before, -1);
    const earlier = checks.get(mta);
    checks.set(mta, earlier ? combineHistograms(earlier, during, 1) : during);
    return result;
  };

  const closedRuns: RunResult[] = [];
  const openRuns: RunResult[] = [];
  let smallest: MtaUnderTest | null = null;
  for (const nodes of options.nodes) {
    progress(`starting the cluster's nodes up to ${nodes}`);
    const fleet = await cluster.grow(nodes);
    if (smallest) {
      for (let run = 1; run <= options.runs; run++) closedRuns.push(await measureCounted(fleet, nodes, run));
      continue;
    }
    // The smallest cluster runs interleaved with the embedded baseline, closed loop and then open loop.
    smallest = fleet;
    for (let run = 1; run <= options.runs; run++) closedRuns.push(await measure(baseline, run), await measureCounted(fleet, nodes, run));
    if (options.rate !== null) for (let run = 1; run <= options.runs; run++) openRuns.push(await measureOpen(baseline, run, options.rate), await measureOpen(fleet, run, options.rate));
    // The baseline's part is done; the larger clusters get the machine to themselves.
    await baseline.stop();
  }

  const closedLoop = workloadReport(options, closedRuns, null);
  const openLoop = options.rate === null ? null : workloadReport(options, openRuns, `${options.rate} msg/s`);
  return {
    redis: urlWithoutPassword(options.redisUrl),
    keyPrefix,
    runsPerConfiguration: options.runs,
    sink: peers.describeSink(false),
    closedLoop,
    openLoop,
    addedLatency: addedLatency(baseline, smallest, options.nodes[0] as number, closedLoop, openLoop),
    sendLimitChecks: [...checks].map(([mta, histogram]) => summariseChecks(mta.name, histogram)),
    redisUsage,
    sinkUsage: await peers.sinkUsage(),
    notes: [...baseline.notes.map((note) => `embedded store: ${note}`), ...(smallest?.notes ?? []).map((note) => `cluster: ${note}`)],
    problems: problemsOf([...closedRuns, ...openRuns]),
  };
}

function workloadReport(options: ClusterBenchOptions, runs: RunResult[], openLoop: string | null): WorkloadReport {
  return { workload: options.workload, title: WORKLOADS.reuse.title, openLoop, runs, summaries: summarise(runs) };
}

/** The smallest cluster's medians minus the baseline's, closed loop and open loop. */
function addedLatency(baseline: MtaUnderTest, cluster: MtaUnderTest | null, nodes: number, ...reports: Array<WorkloadReport | null>): AddedLatency[] {
  const rows: AddedLatency[] = [];
  for (const report of reports) {
    const of = (mta: MtaUnderTest | null) => report?.summaries.find((summary) => summary.mta === mta?.name);
    const [base, fleet] = [of(baseline), of(cluster)];
    if (!report || !base || !fleet) continue;
    const open = report.openLoop !== null;
    rows.push({ loop: open ? `open loop, ${report.openLoop}` : 'closed loop', nodes, baseline: base, cluster: fleet, heldToTarget: open });
  }
  return rows;
}

/** Adds a run's tally to its cluster size's sums. */
function addUsage(usages: RedisUsage[], run: RedisUsage): void {
  const usage = usages.find((other) => other.nodes === run.nodes);
  if (!usage) {
    usages.push(run);
    return;
  }
  usage.accepted += run.accepted;
  usage.tally = addTallies(usage.tally, run.tally);
}

// Exit explicitly: after a timeout the abandoned run may still hold sockets and timers open.
process.exit(await runBenchCommand({ name: 'bench:cluster', usage: CLUSTER_USAGE, parse: parseClusterOptions, run: runClusterBench, format: formatClusterReport }, process.argv.slice(2)));
