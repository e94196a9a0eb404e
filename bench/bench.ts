import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../src/cli/cli-context.js';
import { createResolver } from '../src/delivery/mx/index.js';
import { startDnsServer } from '../test/support/dns-server.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.js';
import { benchMessage } from './bench-message.js';
import { formatReport, problemsOf, ratio, summarise, targetRows, type BenchReport, type WorkloadReport } from './bench-report.js';
import { WORKLOADS, type OpenLoopRate, type WorkloadShape } from './bench-workloads.js';
import { startEventReceiver, type EventReceiver } from './event-receiver.js';
import { measureIdleSessions } from './idle-sessions.js';
import { measureRun, type RunResult } from './measure-mta.js';
import type { MtaUnderTest } from './mta-under-test.js';
import { POSTFIX_DKIM_DOMAIN, postfixReference } from './postfix-reference.js';
import { startRelaygate } from './relaygate-target.js';
import { planPostfix } from './required-tools.js';
import { Teardown } from './teardown.js';
import { startTokenSink } from './token-sink-process.js';

/** Recipient domain: relaygate finds the sink as its MX; the reference Postfix relays everything to the sink anyway. */
const RECIPIENT_DOMAIN = 'bench.example';
/** The From domain: the reference Postfix's OpenDKIM signs only for it, and relaygate has it as a verified identity. */
const SENDER_DOMAIN = POSTFIX_DKIM_DOMAIN;
/** The reference script relays to [127.0.0.1]:PF_SINK_PORT. */
const SINK_HOST = '127.0.0.1';
/** Records per webhook envelope in the --events runs: one signature per batch, as a high-volume destination would use. */
const EVENTS_BATCH_SIZE = 100;

const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions | 'help';
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    // parseArgs reports unknown options and missing values with a TypeError.
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    process.stderr.write(`bench: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }

  const teardown = new Teardown();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the benchmark did not finish within ${options.timeoutSeconds} s (--timeout); everything it started is being stopped`)), options.timeoutSeconds * 1000);
  });
  const interrupted = new Promise<never>((_, reject) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => reject(new Error(`interrupted by ${signal}`)));
  });
  try {
    const report = await Promise.race([runBench(options, teardown), deadline, interrupted]);
    process.stdout.write(`${options.json ? JSON.stringify(report, null, 2) : formatReport(report)}\n`);
    if (report.problems.length > 0) progress(`failed: ${report.problems.length} problem(s), listed in the report`);
    return report.problems.length > 0 ? 1 : 0;
  } catch (error) {
    progress(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    clearTimeout(timer);
    await teardown.run(progress);
  }
}

async function runBench(options: BenchOptions, teardown: Teardown): Promise<BenchReport> {
  const runId = randomBytes(4).toString('hex');
  const postfixSkipped = await planPostfix(options, progress);
  if (postfixSkipped) progress(`Postfix comparison skipped: ${postfixSkipped}`);

  const workDir = mkdtempSync(join(tmpdir(), 'relaygate-bench-'));
  teardown.add(`remove ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  const dns = await startDnsServer({
    [RECIPIENT_DOMAIN]: { MX: [{ exchange: `mx.${RECIPIENT_DOMAIN}`, priority: 10 }] },
    [`mx.${RECIPIENT_DOMAIN}`]: { A: [SINK_HOST] },
  });
  teardown.add('stop the DNS server', () => dns.close());
  const sink = await startTokenSink(SINK_HOST);
  teardown.add('stop the token sink', () => sink.stop());
  const sinkAtStart = await sink.usage();
  const resolver = createResolver({ servers: [dns.address] });

  const mtas: MtaUnderTest[] = [];
  progress('starting relaygate');
  const relaygateSetup = { dnsServer: dns.address, mxPort: sink.port, senderDomain: SENDER_DOMAIN, workers: options.workers ?? undefined };
  const relaygate = await startRelaygate(workDir, relaygateSetup);
  teardown.add('stop relaygate', () => relaygate.stop());
  mtas.push(relaygate);
  let receiver: EventReceiver | null = null;
  let withEvents: MtaUnderTest | null = null;
  if (options.events) {
    receiver = await startEventReceiver(EVENTS_BATCH_SIZE);
    teardown.add('stop the events webhook', () => receiver?.close());
    progress('starting relaygate with a webhook event destination (Send, Delivery)');
    withEvents = await startRelaygate(workDir, { ...relaygateSetup, eventsWebhook: receiver.url });
    teardown.add('stop relaygate with events', () => withEvents?.stop());
    mtas.push(withEvents);
  }
  if (!postfixSkipped) {
    progress(`starting the reference Postfix (${options.postfixScript})`);
    const postfix = postfixReference(options.postfixScript, sink.port);
    teardown.add('stop the reference Postfix', () => postfix.stop());
    mtas.push(await postfix.start());
  }
  for (const mta of mtas) for (const record of mta.dkimRecords) dns.setRecords(record.name, 'TXT', [record.value]);

  let sequence = 0;
  /** Runs of one workload, interleaved: each MTA once, then each MTA again, … */
  const runWorkload = async (workload: WorkloadShape, openLoop: { describe: string; perSecond: (mta: MtaUnderTest) => number } | null): Promise<WorkloadReport> => {
    const runs: RunResult[] = [];
    for (let run = 1; run <= options.runs; run++) {
      for (const mta of mtas) {
        const tag = `${runId}.${++sequence}`;
        const rate = openLoop?.perSecond(mta);
        progress(`${workload.name}${rate === undefined ? '' : ` in an open loop at ${rate.toFixed(0)} msg/s`}, run ${run} of ${options.runs}: ${mta.name}`);
        const recordsBefore = receiver?.records() ?? 0;
        const result = await measureRun(mta, sink, {
          workload,
          run,
          tag,
          message: benchMessage(workload.size, SENDER_DOMAIN, RECIPIENT_DOMAIN, tag),
          openLoopPerSecond: rate,
          drainTimeoutSeconds: options.drainTimeoutSeconds,
          dkimSamples: options.dkimSamples,
          dkim: { domain: SENDER_DOMAIN, resolver },
        });
        // Send + Delivery for every accepted message, unless no record came for 3 s.
        if (receiver && mta === withEvents) await waitForRecords(receiver, recordsBefore + 2 * result.accepted, 3000);
        progress(`  ${describeRun(result)}`);
        runs.push(result);
      }
    }
    return { workload, title: WORKLOADS[workload.name].title, openLoop: openLoop?.describe ?? null, runs, summaries: summarise(runs) };
  };

  const workloads: WorkloadReport[] = [];
  for (const workload of options.workloads) workloads.push(await runWorkload(workload, null));
  const openLoop = options.openLoop && (await runWorkload(options.openLoop.workload, openLoopPlan(options.openLoop.rate, workloads)));
  let idleSessions = null;
  if (options.idleSessions > 0) {
    progress(`opening ${options.idleSessions} idle sessions to ${relaygate.name}`);
    idleSessions = await measureIdleSessions(relaygate, options.idleSessions);
  }

  const sinkNow = await sink.usage();
  const sinkMessages = sinkNow.messages - sinkAtStart.messages;
  const allRuns = [...workloads, ...(openLoop ? [openLoop] : [])].flatMap((report) => report.runs);
  return {
    mtas: mtas.map((mta) => mta.name),
    runsPerMta: options.runs,
    sink: `bench/token-sink.ts on ${SINK_HOST}:${sink.port}, the MX of ${RECIPIENT_DOMAIN} (DNS server on ${dns.address}) for relaygate, the relayhost for Postfix`,
    workloads,
    openLoop,
    idleSessions,
    postfixSkipped,
    events: receiver && {
      records: receiver.byType(),
      ratios: Object.fromEntries(
        workloads.map((report) => {
          const median = (mta: MtaUnderTest | null) => report.summaries.find((summary) => summary.mta === mta?.name)?.deliveredPerSecond;
          return [report.workload.name, ratio(median(withEvents), median(relaygate))];
        }),
      ),
    },
    sinkUsage: { messages: sinkMessages, cpuMsPerMessage: sinkMessages > 0 ? (sinkNow.cpuMs - sinkAtStart.cpuMs) / sinkMessages : null, strays: sinkNow.strays },
    notes: mtas.flatMap((mta) => mta.notes.map((note) => `${mta.name}: ${note}`)),
    targets: targetRows(workloads, openLoop, idleSessions),
    problems: problemsOf(allRuns),
  };
}

/** The open loop's rate for each MTA: fixed, or a share of that MTA's own median accepted msg/s in the reuse workload. */
function openLoopPlan(rate: OpenLoopRate, workloads: WorkloadReport[]): { describe: string; perSecond: (mta: MtaUnderTest) => number } {
  if ('perSecond' in rate) return { describe: `${rate.perSecond} msg/s`, perSecond: () => rate.perSecond };
  const reuse = workloads.find((report) => report.workload.name === 'reuse');
  return {
    describe: `${rate.percentOfPeak} % of each MTA's median accepted msg/s in the reuse workload`,
    perSecond(mta) {
      const peak = reuse?.summaries.find((summary) => summary.mta === mta.name)?.acceptedPerSecond;
      if (!peak) throw new Error(`no accepted msg/s of ${mta.name} in the reuse workload to take ${rate.percentOfPeak} % of`);
      return (peak * rate.percentOfPeak) / 100;
    },
  };
}

function describeRun(result: RunResult): string {
  const delivered = result.deliveredPerSecond === null ? 'n/a' : result.deliveredPerSecond.toFixed(0);
  const cpu = result.cpuMsPerMessage === null ? 'n/a' : result.cpuMsPerMessage.toFixed(2);
  return `${result.accepted} accepted (${result.acceptedPerSecond.toFixed(0)}/s), delivered ${delivered}/s, p99 ${result.p99Ms?.toFixed(1) ?? 'n/a'} ms, CPU ${cpu} ms/msg, lost ${result.lost}, duplicated ${result.duplicated}, DKIM failures ${result.dkim.failures.length} of ${result.dkim.checked}`;
}

async function waitForRecords(receiver: EventReceiver, expected: number, quietMs: number): Promise<void> {
  let last = receiver.records();
  let lastChange = Date.now();
  while (receiver.records() < expected && Date.now() - lastChange < quietMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (receiver.records() !== last) {
      last = receiver.records();
      lastChange = Date.now();
    }
  }
}

// Exit explicitly: after a timeout the abandoned run may still hold sockets and timers open.
process.exit(await main(process.argv.slice(2)));
