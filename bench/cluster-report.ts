import { table } from '../src/cli/cli-context.js';
import { fixed, formatSinkUsage, formatWorkload, type MtaSummary, type SinkUsage, type WorkloadReport } from './bench-report.js';
import { histogramQuantile, observations, type HistogramSnapshot } from './metrics-histogram.js';
import type { RedisCommandRow, RedisCommandTally } from './redis-commands.js';

/** The targets of issue 11 for cluster mode. */
export const CLUSTER_TARGETS = {
  /** Redis round trips per message on the submission path, at most. */
  submissionRoundTrips: 2,
  /** p99 time to 250 that cluster mode adds to one node, below (ms), in the open loop. */
  addedP99Ms: 2,
};

/** What one cluster size asked Redis, summed over its closed-loop runs. */
export interface RedisUsage {
  mta: string;
  nodes: number;
  /** Accepted messages of those runs: the figures are per accepted message. */
  accepted: number;
  tally: RedisCommandTally;
}

export interface AddedLatency {
  loop: string;
  /** The size of the cluster compared with the embedded baseline (the smallest measured). */
  nodes: number;
  baseline: Pick<MtaSummary, 'p50Ms' | 'p99Ms'>;
  cluster: Pick<MtaSummary, 'p50Ms' | 'p99Ms'>;
  /** Only the open loop is held to the target: in the closed loop at saturation, queueing decides p99. */
  heldToTarget: boolean;
}

/** One MTA's send-rate and quota checks (relaygate_send_limit_check_seconds) over its open-loop runs. */
export interface SendLimitChecks {
  mta: string;
  checks: number;
  p50Ms: number | null;
  p99Ms: number | null;
}

export function summariseChecks(mta: string, histogram: HistogramSnapshot): SendLimitChecks {
  const ms = (q: number) => {
    const seconds = histogramQuantile(histogram, q);
    return seconds === null ? null : seconds * 1000;
  };
  return { mta, checks: observations(histogram), p50Ms: ms(0.5), p99Ms: ms(0.99) };
}

export interface ClusterBenchReport {
  redis: string;
  keyPrefix: string;
  runsPerConfiguration: number;
  sink: string;
  /** The embedded baseline and each cluster size, closed loop. */
  closedLoop: WorkloadReport;
  /** The embedded baseline and the smallest cluster at a fixed rate; null with --rate off. */
  openLoop: WorkloadReport | null;
  addedLatency: AddedLatency[];
  /** The embedded baseline's and the smallest cluster's, in that order; empty with --rate off. */
  sendLimitChecks: SendLimitChecks[];
  redisUsage: RedisUsage[];
  sinkUsage: SinkUsage;
  notes: string[];
  problems: string[];
}

/**
 * Which part of relaygate a command serves, from its connection's name (src/ names each connectRedis): the send
 * limiter and the control store's reads run while the client waits for its 250, except the suppression list's (its
 * HMGET per message and the account's suppressed reasons), which delivery reads, and the listings (ZRANGE of an
 * index) of the node's periodic jobs (identity verification, event destinations, feedback domains), whose HGETALLs
 * cannot be told from the submission's and count as its; shaping is delivery's; the node connections carry
 * heartbeats, the fleet statistics and feedback.
 */
export function pathOf(row: Pick<RedisCommandRow, 'connection' | 'command' | 'key'>): 'submission' | 'delivery' | 'node' | 'unknown' {
  if (row.connection === 'relaygate-send-limits') return 'submission';
  if (row.connection === 'relaygate-control') return row.key.startsWith('cp:suppression:') ? 'delivery' : row.command === 'ZRANGE' ? 'node' : 'submission';
  if (row.connection === 'relaygate-shaping') return 'delivery';
  if (row.connection === 'relaygate-node' || row.connection === 'relaygate-feedback-inbox') return 'node';
  return 'unknown';
}

export function formatClusterReport(report: ClusterBenchReport): string {
  const lines = [
    `relaygate, embedded store against a cluster sharing ${report.redis} (key prefix ${report.keyPrefix}); STARTTLS + AUTH PLAIN, MAIL/RCPT/DATA pipelined; sessions spread over the nodes in turn by the load client; ${report.runsPerConfiguration} run(s) each`,
    `sink: ${report.sink}`,
    '',
    ...formatWorkload(report.closedLoop),
  ];
  if (report.openLoop) lines.push('', ...formatWorkload(report.openLoop));
  const [first] = report.addedLatency;
  if (first) lines.push('', `time to 250 that cluster mode adds: the ${first.nodes}-node cluster's medians minus the embedded baseline's`, formatAddedLatency(report.addedLatency));
  if (report.sendLimitChecks.length > 0) lines.push('', ...formatSendLimitChecks(report.sendLimitChecks));
  if (report.redisUsage.length > 0) lines.push('', ...formatRedisUsage(report.redisUsage));
  lines.push('', ...report.notes, ...formatSinkUsage(report.sinkUsage));
  for (const problem of report.problems) lines.push(`FAILED: ${problem}`);
  return lines.join('\n');
}

function formatAddedLatency(rows: AddedLatency[]): string {
  const added = (cluster: number | null, baseline: number | null) => (cluster === null || baseline === null ? null : cluster - baseline);
  return table(
    ['loop', 'p50 embedded ms', 'p50 cluster ms', 'p50 added ms', 'p99 embedded ms', 'p99 cluster ms', 'p99 added ms', 'target', ''],
    rows.map((row) => {
      const p99Added = added(row.cluster.p99Ms, row.baseline.p99Ms);
      const met = !row.heldToTarget || p99Added === null ? '' : p99Added < CLUSTER_TARGETS.addedP99Ms ? 'met' : 'NOT MET';
      return [
        row.loop,
        fixed(row.baseline.p50Ms, 1),
        fixed(row.cluster.p50Ms, 1),
        fixed(added(row.cluster.p50Ms, row.baseline.p50Ms), 1),
        fixed(row.baseline.p99Ms, 1),
        fixed(row.cluster.p99Ms, 1),
        fixed(p99Added, 1),
        row.heldToTarget ? `p99 added < ${CLUSTER_TARGETS.addedP99Ms}` : '',
        met,
      ];
    }),
  );
}

/** The one step of the submission that cluster mode moves to Redis, timed by the nodes themselves. */
function formatSendLimitChecks([baseline, cluster]: SendLimitChecks[]): string[] {
  const rows = [baseline, cluster].flatMap((checks) => (checks ? [[checks.mta, String(checks.checks), fixed(checks.p50Ms, 3), fixed(checks.p99Ms, 3), '', '']] : []));
  if (baseline && cluster) {
    const p99Added = baseline.p99Ms === null || cluster.p99Ms === null ? null : cluster.p99Ms - baseline.p99Ms;
    const met = p99Added === null ? 'n/a' : p99Added < CLUSTER_TARGETS.addedP99Ms ? 'met' : 'NOT MET';
    rows.push(['added by cluster mode', '', fixed(baseline.p50Ms === null || cluster.p50Ms === null ? null : cluster.p50Ms - baseline.p50Ms, 3), fixed(p99Added, 3), `p99 added < ${CLUSTER_TARGETS.addedP99Ms}`, met]);
  }
  return [
    "send-rate and quota check per message in the open-loop runs, as each node's relaygate_send_limit_check_seconds histogram timed it (the embedded limits.db, or the Redis round trip; interpolated within the histogram's buckets):",
    table(['MTA', 'checks', 'p50 ms', 'p99 ms', 'target', ''], rows),
  ];
}

function formatRedisUsage(usages: RedisUsage[]): string[] {
  const perMessage = (value: number, usage: RedisUsage) => (usage.accepted === 0 ? 'n/a' : (value / usage.accepted).toFixed(3));
  const submission = (usage: RedisUsage) => usage.tally.rows.filter((row) => pathOf(row) === 'submission');
  const summary = table(
    ['MTA', 'accepted', 'commands/msg', 'round trips/msg', 'submission commands/msg', 'submission round trips/msg', 'target', '', 'redis-server CPU ms/msg'],
    usages.map((usage) => {
      const roundTrips = submission(usage).reduce((sum, row) => sum + row.roundTrips, 0);
      const met = usage.accepted === 0 ? 'n/a' : roundTrips / usage.accepted <= CLUSTER_TARGETS.submissionRoundTrips ? 'met' : 'NOT MET';
      return [
        usage.mta,
        String(usage.accepted),
        perMessage(usage.tally.commands, usage),
        perMessage(usage.tally.roundTrips, usage),
        perMessage(submission(usage).reduce((sum, row) => sum + row.calls, 0), usage),
        perMessage(roundTrips, usage),
        `<= ${CLUSTER_TARGETS.submissionRoundTrips}`,
        met,
        perMessage(usage.tally.serverCpuMs, usage),
      ];
    }),
  );
  // One row per connection, command and key shape, with its calls per accepted message at each cluster size.
  const ids = new Map<string, RedisCommandRow>();
  for (const usage of usages) for (const row of usage.tally.rows) ids.set(rowId(row), row);
  const byCommand = table(
    ['path', 'connection', 'command', 'key', ...usages.map((usage) => `${usage.nodes} node${usage.nodes === 1 ? '' : 's'}`)],
    [...ids.values()]
      .sort((a, b) => pathOf(a).localeCompare(pathOf(b)) || a.connection.localeCompare(b.connection) || a.command.localeCompare(b.command) || a.key.localeCompare(b.key))
      .map((row) => [
        pathOf(row),
        row.connection,
        row.command,
        row.key,
        ...usages.map((usage) => perMessage(usage.tally.rows.find((other) => rowId(other) === rowId(row))?.calls ?? 0, usage)),
      ]),
  );
  return [
    'Redis per accepted message (closed-loop runs, counted with MONITOR on the nodes\' connections; a MULTI … EXEC block is one round trip, an ioredis pipeline counts one per command):',
    summary,
    '',
    'Redis commands per accepted message by connection, command and key (ids shown as …; (MULTI): queued in a transaction):',
    byCommand,
  ];
}

const rowId = (row: RedisCommandRow) => `${row.connection} ${row.command} ${row.key}`;
