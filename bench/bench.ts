import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBenchCommand } from './bench-command.js';
import { benchMessage } from './bench-message.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.js';
import { RECIPIENT_DOMAIN, SENDER_DOMAIN, startBenchPeers } from './bench-peers.js';
import { describeRun, formatReport, isMeasured, problemsOf, ratio, summarise, targetRows, type BenchReport, type WorkloadReport } from './bench-report.js';
import { WORKLOADS, type OpenLoopRate, type WorkloadShape } from './bench-workloads.js';
import { startEventReceiver, type EventReceiver } from './event-receiver.js';
import { measureIdleSessions } from './idle-sessions.js';
import { measureRun, type RunResult } from './measure-mta.js';
import type { MtaUnderTest } from './mta-under-test.js';
import { postfixReference } from './postfix-reference.js';
import { startRelaygate } from './relaygate-target.js';
import { planPostfix } from './required-tools.js';
import type { Teardown } from './teardown.js';

/** Records per webhook envelope in the --events runs: one signature per batch, as a high-volume destination would use. */
const EVENTS_BATCH_SIZE = 100;

const progress = (line: string) => process.stderr.write(`bench: ${line}\n`);

async function runBench(options: BenchOptions, teardown: Teardown): Promise<BenchReport> {
  const runId = randomBytes(4).toString('hex');
  const postfixSkipped = await planPostfix(options, progress);
  if (postfixSkipped) progress(`Postfix comparison skipped: ${postfixSkipped}`);

  const workDir = mkdtempSync(join(tmpdir(), 'relaygate-bench-'));
  teardown.add(`remove ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  const peers = await startBenchPeers(teardown);
  const { sink, resolver } = peers;

  const mtas: MtaUnderTest[] = [];
  progress('starting relaygate');
  const relaygateSetup = { dnsServer: peers.dnsServer, mxPort: sink.port, senderDomain: SENDER_DOMAIN, workers: options.workers ?? undefined };
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
  for (const mta of mtas) for (const record of mta.dkimRecords) peers.publishTxt(record.name, record.value);

  let sequence = 0;
  /** Runs of one workload, interleaved: each MTA once, then each MTA again, …; runs numbered 0 or below are warm-ups. */
  const runWorkload = async (workload: WorkloadShape, openLoop: { describe: string; perSecond: (mta: MtaUnderTest) => number } | null, warmupRuns: number): Promise<WorkloadReport> => {
    const runs: RunResult[] = [];
    for (let run = 1 - warmupRuns; run <= options.runs; run++) {
      for (const mta of mtas) {
        const tag = `${runId}.${++sequence}`;
        const rate = openLoop?.perSecond(mta);
        const which = run > 0 ? `run ${run} of ${options.runs}` : 'warm-up run, not measured';
        progress(`${workload.name}${rate === undefined ? '' : ` in an open loop at ${rate.toFixed(0)} msg/s`}, ${which}: ${mta.name}`);
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
    return { workload, title: WORKLOADS[workload.name].title, openLoop: openLoop?.describe ?? null, runs, summaries: summarise(runs.filter(isMeasured)) };
  };

  const workloads: WorkloadReport[] = [];
  for (const workload of options.workloads) workloads.push(await runWorkload(workload, null, options.warmupRuns));
  // The open loop runs the reuse workload's code, warm by then.
  const openLoop = options.openLoop && (await runWorkload(options.openLoop.workload, openLoopPlan(options.openLoop.rate, workloads), 0));
  let idleSessions = null;
  if (options.idleSessions > 0) {
    progress(`opening ${options.idleSessions} idle sessions to ${relaygate.name}`);
    idleSessions = await measureIdleSessions(relaygate, options.idleSessions);
  }

  const allRuns = [...workloads, ...(openLoop ? [openLoop] : [])].flatMap((report) => report.runs);
  return {
    mtas: mtas.map((mta) => mta.name),
    runsPerMta: options.runs,
    warmupRuns: options.warmupRuns,
    sink: peers.describeSink(true),
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
    sinkUsage: await peers.sinkUsage(),
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
process.exit(await runBenchCommand({ name: 'bench', usage: USAGE, parse: parseBenchOptions, run: runBench, format: formatReport }, process.argv.slice(2)));
