import { table } from '../src/cli/cli-context.js';
import { TARGETS, WORKLOADS, type WorkloadShape } from './bench-workloads.js';
import type { IdleSessionsResult } from './idle-sessions.js';
import type { RunResult } from './measure-mta.js';

/** One MTA's runs of one workload, summarised: medians of the rates, latencies and CPU; sums of what went wrong. */
export interface MtaSummary {
  mta: string;
  kind: RunResult['kind'];
  runs: number;
  offeredPerSecond: number | null;
  acceptedPerSecond: number;
  /** null when a run did not deliver every accepted message. */
  deliveredPerSecond: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  cpuMsPerMessage: number | null;
  /** The largest of the runs' peaks. */
  peakPssMiB: number;
  refused: number;
  lost: number;
  duplicated: number;
  dkimChecked: number;
  dkimFailed: number;
}

export interface WorkloadReport {
  workload: WorkloadShape;
  title: string;
  /** Open loop: how its rate was chosen, in words; null for a closed-loop workload. */
  openLoop: string | null;
  /** In the order they ran (interleaved between the MTAs). */
  runs: RunResult[];
  summaries: MtaSummary[];
}

export interface TargetRow {
  what: string;
  measured: number | null;
  /** e.g. ">= 3", "<= 0.33", "< 50 ms". */
  target: string;
  met: boolean | null;
}

/** The token sink's own cost, and the messages it could not count for any run (by reason). */
export interface SinkUsage {
  messages: number;
  cpuMsPerMessage: number | null;
  strays: Record<string, number>;
}

export interface BenchReport {
  /** The MTAs compared, in the order of every run. */
  mtas: string[];
  runsPerMta: number;
  /** Unmeasured runs per MTA of each closed-loop workload before the measured ones. */
  warmupRuns: number;
  sink: string;
  workloads: WorkloadReport[];
  openLoop: WorkloadReport | null;
  idleSessions: IdleSessionsResult | null;
  /** Why the Postfix comparison did not run, when it did not. */
  postfixSkipped: string | null;
  /** With --events: the records the webhook received (by event type) and delivered msg/s with events over without, per workload. */
  events: { records: Record<string, number>; ratios: Record<string, number | null> } | null;
  sinkUsage: SinkUsage;
  notes: string[];
  targets: TargetRow[];
  /** Lost or duplicated messages and DKIM failures: any of them makes the bench exit 1. */
  problems: string[];
}

export function summarise(runs: RunResult[]): MtaSummary[] {
  const byMta = new Map<string, RunResult[]>();
  for (const run of runs) byMta.set(run.mta, [...(byMta.get(run.mta) ?? []), run]);
  return [...byMta.values()].map((own) => {
    const first = own[0] as RunResult;
    const delivered = own.map((run) => run.deliveredPerSecond);
    return {
      mta: first.mta,
      kind: first.kind,
      runs: own.length,
      offeredPerSecond: first.offeredPerSecond,
      acceptedPerSecond: median(own.map((run) => run.acceptedPerSecond)) ?? 0,
      deliveredPerSecond: delivered.includes(null) ? null : median(delivered),
      p50Ms: median(own.map((run) => run.p50Ms)),
      p99Ms: median(own.map((run) => run.p99Ms)),
      cpuMsPerMessage: median(own.map((run) => run.cpuMsPerMessage)),
      peakPssMiB: Math.max(...own.map((run) => run.peakPssMiB)),
      refused: sum(own.map((run) => run.submitted - run.accepted)),
      lost: sum(own.map((run) => run.lost)),
      duplicated: sum(own.map((run) => run.duplicated)),
      dkimChecked: sum(own.map((run) => run.dkim.checked)),
      dkimFailed: sum(own.map((run) => run.dkim.failures.length)),
    };
  });
}

/** relaygate's figures over the reference Postfix's (the first relaygate: the one without the events webhook). */
export function comparedPair(summaries: MtaSummary[]): { relaygate?: MtaSummary; postfix?: MtaSummary } {
  return { relaygate: summaries.find((summary) => summary.kind === 'relaygate'), postfix: summaries.find((summary) => summary.kind === 'postfix') };
}

/** The issue's targets against this run's medians. */
export function targetRows(workloads: WorkloadReport[], openLoop: WorkloadReport | null, idle: IdleSessionsResult | null): TargetRow[] {
  const rows: TargetRow[] = [];
  for (const report of workloads) {
    const { relaygate, postfix } = comparedPair(report.summaries);
    if (!relaygate || !postfix) continue;
    const target = WORKLOADS[report.workload.name].targetRatio;
    const throughput = ratio(relaygate.deliveredPerSecond, postfix.deliveredPerSecond);
    rows.push({ what: `${report.title}: delivered msg/s, relaygate / Postfix`, measured: throughput, target: `>= ${target}`, met: throughput === null ? null : throughput >= target });
    const cpu = ratio(relaygate.cpuMsPerMessage, postfix.cpuMsPerMessage);
    rows.push({ what: `${report.title}: CPU per message, relaygate / Postfix`, measured: cpu, target: `<= ${TARGETS.cpuRatio.toFixed(2)}`, met: cpu === null ? null : cpu <= TARGETS.cpuRatio });
  }
  const openRelaygate = openLoop ? comparedPair(openLoop.summaries).relaygate : undefined;
  if (openLoop && openRelaygate) {
    const p99 = openRelaygate.p99Ms;
    rows.push({ what: `open loop (${openLoop.openLoop}): relaygate p99 time to 250, ms`, measured: p99, target: `< ${TARGETS.openLoopP99Ms}`, met: p99 === null ? null : p99 < TARGETS.openLoopP99Ms });
  }
  if (idle) {
    const megabytes = (idle.pssMiB * 1024 * 1024) / 1e6;
    rows.push({ what: `${idle.opened} idle sessions: relaygate Pss, MB`, measured: megabytes, target: `< ${TARGETS.idleSessionsMB}`, met: idle.opened === idle.sessions && megabytes < TARGETS.idleSessionsMB });
  }
  return rows;
}

/** Runs numbered 0 or below are warm-ups: reported, checked for loss, left out of the medians. */
export const isMeasured = (run: RunResult): boolean => run.run > 0;

const runName = (run: RunResult): string => (isMeasured(run) ? `run ${run.run}` : 'warm-up run');

/** What makes the run a failure: a message lost or delivered twice, a delivered message without a passing DKIM signature. */
export function problemsOf(runs: RunResult[]): string[] {
  const problems: string[] = [];
  for (const run of runs) {
    const name = `${run.mta}, ${run.workload}${run.offeredPerSecond === null ? '' : ' (open loop)'} ${runName(run)}`;
    if (run.lost > 0) problems.push(`${name}: ${run.lost} accepted messages never reached the sink`);
    if (run.duplicated > 0) problems.push(`${name}: ${run.duplicated} messages reached the sink more than once`);
    if (run.dkim.checked === 0 && run.delivered > 0) problems.push(`${name}: no delivered message was sampled for the DKIM check`);
    for (const failure of run.dkim.failures) problems.push(`${name}: DKIM: ${failure}`);
  }
  return problems;
}

export function formatReport(report: BenchReport): string {
  const lines = [
    `${report.mtas.join(' against ')}; STARTTLS + AUTH PLAIN, MAIL/RCPT/DATA pipelined; ${report.runsPerMta} run(s) per MTA, interleaved${report.warmupRuns > 0 ? `, after ${report.warmupRuns} warm-up run(s) per MTA of each closed-loop workload (shown, not in the medians)` : ''}`,
    `sink: ${report.sink}`,
  ];
  for (const workload of report.workloads) lines.push('', ...formatWorkload(workload));
  if (report.openLoop) lines.push('', ...formatWorkload(report.openLoop));
  if (report.idleSessions) lines.push('', formatIdle(report.idleSessions));
  if (report.events) {
    const received = Object.entries(report.events.records).map(([type, count]) => `${count} ${type}`).join(', ') || 'none';
    lines.push('', `events webhook received: ${received}`);
    for (const [workload, eventsRatio] of Object.entries(report.events.ratios)) lines.push(`with events / without, ${workload}, delivered msg/s (medians): ${eventsRatio === null ? 'n/a' : eventsRatio.toFixed(2)}`);
  }
  lines.push('');
  if (report.targets.length > 0) {
    lines.push(
      table(
        ['against the issue\'s targets', 'measured', 'target', ''],
        report.targets.map((row) => [row.what, row.measured === null ? 'n/a' : row.measured.toFixed(2), row.target, row.met === null ? 'n/a' : row.met ? 'met' : 'NOT MET']),
      ),
      '',
    );
  }
  if (report.postfixSkipped) lines.push(`Postfix comparison skipped: ${report.postfixSkipped}`);
  lines.push(...report.notes, ...formatSinkUsage(report.sinkUsage));
  for (const problem of report.problems) lines.push(`FAILED: ${problem}`);
  return lines.join('\n');
}

export function formatSinkUsage(usage: SinkUsage): string[] {
  return [
    `token sink: ${usage.messages} messages, ${usage.cpuMsPerMessage === null ? 'n/a' : usage.cpuMsPerMessage.toFixed(3)} ms CPU per message`,
    ...Object.entries(usage.strays).map(([reason, count]) => `token sink: ${count} × not counted for any run: ${reason}`),
  ];
}

/** One run in a line, for the progress output. */
export function describeRun(result: RunResult): string {
  const delivered = result.deliveredPerSecond === null ? 'n/a' : result.deliveredPerSecond.toFixed(0);
  const cpu = result.cpuMsPerMessage === null ? 'n/a' : result.cpuMsPerMessage.toFixed(2);
  return `${result.accepted} accepted (${result.acceptedPerSecond.toFixed(0)}/s), delivered ${delivered}/s, p99 ${result.p99Ms?.toFixed(1) ?? 'n/a'} ms, CPU ${cpu} ms/msg, lost ${result.lost}, duplicated ${result.duplicated}, DKIM failures ${result.dkim.failures.length} of ${result.dkim.checked}`;
}

/** The table of one workload's runs and medians, with the refusals and session errors under it. */
export function formatWorkload(report: WorkloadReport): string[] {
  const { workload } = report;
  const open = report.openLoop !== null;
  const shape = `${workload.messages} × ${workload.size} bytes, ${workload.connections} sessions, ${workload.messagesPerConnection === 1 ? 'a new session per message' : `${workload.messagesPerConnection} messages per session`}`;
  const headers = ['run', 'MTA', ...(open ? ['offered msg/s'] : []), 'accepted msg/s', 'delivered msg/s', 'p50 to 250 ms', 'p99 to 250 ms', 'CPU ms/msg', 'peak Pss MiB', 'refused', 'lost', 'duplicated', 'DKIM'];
  const row = (label: string, values: MtaSummary | RunResult, refused: number, dkimChecked: number, dkimFailed: number) => [
    label,
    values.mta,
    ...(open ? [values.offeredPerSecond === null ? 'n/a' : values.offeredPerSecond.toFixed(0)] : []),
    values.acceptedPerSecond.toFixed(0),
    values.deliveredPerSecond === null ? 'n/a' : values.deliveredPerSecond.toFixed(0),
    fixed(values.p50Ms, 1),
    fixed(values.p99Ms, 1),
    fixed(values.cpuMsPerMessage, 2),
    values.peakPssMiB.toFixed(0),
    String(refused),
    String(values.lost),
    String(values.duplicated),
    dkimChecked === 0 ? 'n/a' : dkimFailed === 0 ? `pass ${dkimChecked}/${dkimChecked}` : `FAIL ${dkimFailed}/${dkimChecked}`,
  ];
  const rows = [
    ...report.runs.map((run) => row(isMeasured(run) ? String(run.run) : 'warm-up', run, run.submitted - run.accepted, run.dkim.checked, run.dkim.failures.length)),
    ...report.summaries.map((summary) => row('median', summary, summary.refused, summary.dkimChecked, summary.dkimFailed)),
  ];
  const lines = [`${workload.name}${open ? ` in an open loop (${report.openLoop})` : ''} — ${report.title}: ${shape}`, table(headers, rows)];
  for (const run of report.runs) {
    const name = `${run.mta}, ${runName(run)}`;
    for (const [reason, count] of Object.entries(run.refusals)) lines.push(`${name}: ${count} × not accepted: ${reason}`);
    for (const [reason, count] of Object.entries(run.sessionErrors)) lines.push(`${name}: ${count} × session error: ${reason}`);
    if (run.deliveredUnacknowledged > 0) lines.push(`${name}: ${run.deliveredUnacknowledged} delivered although the client saw no 250`);
  }
  return lines;
}

function formatIdle(idle: IdleSessionsResult): string {
  const failures = Object.entries(idle.failures).map(([reason, count]) => `; ${count} × could not open: ${reason}`).join('');
  return `${idle.opened} of ${idle.sessions} sessions open and idle (STARTTLS + AUTH done) on ${idle.mta}: Pss ${idle.pssMiB.toFixed(0)} MiB (${idle.baselinePssMiB.toFixed(0)} before), peak Pss ${idle.peakPssMiB.toFixed(0)} MiB, VmHWM ${idle.peakRssMiB.toFixed(0)} MiB${failures}`;
}

export function ratio(numerator: number | null | undefined, denominator: number | null | undefined): number | null {
  return numerator && denominator ? numerator / denominator : null;
}

function median(values: Array<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null).sort((a, b) => a - b);
  if (known.length === 0) return null;
  const middle = Math.floor(known.length / 2);
  return known.length % 2 === 1 ? (known[middle] as number) : ((known[middle - 1] as number) + (known[middle] as number)) / 2;
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export function fixed(value: number | null, digits: number): string {
  return value === null ? 'n/a' : value.toFixed(digits);
}
