import type { FuzzResult } from './fuzz-run.js';

const number = (value: number) => value.toLocaleString('en-US');
const mib = (value: number | null) => (value === null ? 'n/a' : value.toFixed(0));

/** The result as a few lines of text, findings last with the command that replays each. */
export function formatFuzzReport(result: FuzzResult): string {
  const { counts, sink } = result;
  const lines = [
    `seed ${result.seed}: ${number(result.lines)} lines (${number(result.bytes)} bytes) in ${number(result.sessions)} sessions, ` +
      `${result.seconds.toFixed(1)} s (${number(Math.round(result.lines / Math.max(result.seconds, 0.001)))} lines/s)`,
    `crashes ${result.crashes.length}, hangs ${counts.hangs}, malformed replies ${counts.malformed}, unsolicited replies ${counts.desyncs}`,
    `messages accepted ${number(result.accepted)}, of which for the sink ${number(result.acceptedForSink)}; delivered to the sink ${number(sink.delivered)}`,
    `delivered with a NUL ${sink.withNul}, with a bare CR or LF ${sink.withBareLineEnding}, with a line over 998 bytes ${sink.withLongLine}` +
      (sink.longestLine ? ` (longest ${number(sink.longestLine)})` : ''),
    `gateway RSS MiB: start ${mib(result.rssMiB.start)}, peak ${mib(result.rssMiB.peak)}, end ${mib(result.rssMiB.end)}`,
  ];
  for (const example of sink.examples) lines.push(`  at the sink: ${example}`);
  for (const error of result.gatewayErrors) lines.push(`gateway logged ${error.count} × "${error.message}"${error.example ? `: ${error.example}` : ''}`);
  const stderrShown = new Set<string>();
  for (const crash of result.crashes) {
    lines.push(`CRASH: the gateway exited with code ${crash.code}, signal ${crash.signal}; sessions in flight: ${crash.sessionsInFlight.join(', ')}`);
    // The same crash again only gets its line; its stack trace was shown the first time.
    if (stderrShown.has(crash.stderr)) continue;
    stderrShown.add(crash.stderr);
    lines.push(...crash.stderr.trimEnd().split('\n').map((line) => `  stderr: ${line}`));
  }
  for (const finding of result.findings) {
    lines.push(`${finding.kind.toUpperCase()}: ${finding.problem}${finding.excerpt ? ` ${finding.excerpt}` : ''} — replay: npm run fuzz -- --session ${finding.session}`);
  }
  return lines.join('\n');
}
