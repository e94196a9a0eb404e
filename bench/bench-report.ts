import { table } from '../src/cli/cli-context.js';
import type { MtaResult } from './measure-mta.js';

export interface BenchReport {
  workload: { messages: number; size: number; connections: number; newConnectionPerMessage: boolean };
  /** Where the messages were delivered to, in words. */
  sink: string;
  results: MtaResult[];
  /** Why the Postfix comparison did not run, when it did not. */
  postfixSkipped: string | null;
  /** relaygate's end-to-end delivered msg/s divided by Postfix's; null when either is missing. */
  ratio: number | null;
  /** With --events: the records the webhook received (by event type) and delivered msg/s with events over without. */
  events: { records: Record<string, number>; ratio: number | null } | null;
}

/** The end-to-end ratio, when both MTAs delivered everything they accepted. */
export function deliveredRatio(relaygate: MtaResult | undefined, postfix: MtaResult | undefined): number | null {
  if (!relaygate?.deliveredPerSecond || !postfix?.deliveredPerSecond) return null;
  return relaygate.deliveredPerSecond / postfix.deliveredPerSecond;
}

export function formatReport(report: BenchReport): string {
  const { workload } = report;
  const mode = workload.newConnectionPerMessage ? 'a new connection per message' : 'connections reused, commands pipelined';
  const lines = [
    `${workload.messages} messages × ${workload.size} bytes, ${workload.connections} concurrent sessions (${mode}), STARTTLS + AUTH PLAIN`,
    `sink: ${report.sink}`,
    '',
    table(
      ['MTA', 'accepted msg/s', 'delivered msg/s', 'p50 to 250 ms', 'p99 to 250 ms', 'peak RSS MiB', 'refused', 'lost'],
      report.results.map((result) => [
        result.mta,
        rate(result.acceptedPerSecond),
        result.deliveredPerSecond === null ? `n/a (${result.delivered} of ${result.accepted} arrived)` : rate(result.deliveredPerSecond),
        milliseconds(result.p50Ms),
        milliseconds(result.p99Ms),
        result.peakRssMiB === null ? 'n/a' : result.peakRssMiB.toFixed(0),
        String(result.submitted - result.accepted),
        String(result.lost),
      ]),
    ),
    '',
  ];
  const relaygate = report.results[0];
  const postfix = report.results.find((result) => !result.mta.startsWith('relaygate'));
  if (report.events) {
    const received = Object.entries(report.events.records).map(([type, count]) => `${count} ${type}`).join(', ') || 'none';
    lines.push(`events webhook received: ${received}`);
    lines.push(`with events / without, delivered msg/s: ${report.events.ratio === null ? 'n/a' : report.events.ratio.toFixed(2)}`);
  }
  if (report.ratio !== null) lines.push(`relaygate / Postfix, delivered msg/s end to end: ${report.ratio.toFixed(2)}`);
  else if (report.postfixSkipped) lines.push(`Postfix comparison skipped: ${report.postfixSkipped}`);
  else lines.push(`relaygate / Postfix ratio: n/a (${[relaygate, postfix].filter((result) => result && result.deliveredPerSecond === null).map((result) => result?.mta).join(' and ')} did not deliver every accepted message)`);
  for (const result of report.results) {
    for (const note of result.notes) lines.push(`${result.mta}: ${note}`);
    for (const [reason, count] of Object.entries(result.refusals)) lines.push(`${result.mta}: ${count} × not accepted: ${reason}`);
    for (const [reason, count] of Object.entries(result.sessionErrors)) lines.push(`${result.mta}: ${count} × session did not end cleanly: ${reason}`);
  }
  return lines.join('\n');
}

function rate(perSecond: number): string {
  return perSecond.toFixed(0);
}

function milliseconds(value: number | null): string {
  return value === null ? 'n/a' : value.toFixed(1);
}
