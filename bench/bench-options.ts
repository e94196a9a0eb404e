import { parseArgs } from 'node:util';
import { UsageError } from '../src/cli/cli-context.js';
import { WORKLOAD_NAMES, WORKLOADS, type OpenLoopRate, type WorkloadName, type WorkloadShape } from './bench-workloads.js';
import { DEFAULT_POSTFIX_SCRIPT } from './postfix-reference.js';

export interface BenchOptions {
  /** The closed-loop workloads, in the order they run, with the command line's overrides applied. */
  workloads: WorkloadShape[];
  /** Runs per MTA of each workload, interleaved between the MTAs. */
  runs: number;
  /** Unmeasured runs per MTA of each closed-loop workload before its measured runs (kept out of the medians). */
  warmupRuns: number;
  /** After the closed-loop workloads, the reuse workload again at a fixed rate; null: no open loop. */
  openLoop: { rate: OpenLoopRate; workload: WorkloadShape } | null;
  /** Sessions to open (STARTTLS + AUTH, then idle) to measure relaygate's memory; 0: not measured. */
  idleSessions: number;
  /** smtp.workers for relaygate; null leaves the key out. */
  workers: number | null;
  /** null: run the Postfix comparison when it can run, skip it (saying why) otherwise. */
  comparePostfix: boolean | null;
  /** The reference Postfix script (../shared/bench/postfix-reference.sh). */
  postfixScript: string;
  /** Install the reference Postfix's missing Debian packages with apt-get first. */
  install: boolean;
  /** Delivered messages per run whose DKIM signature is verified. */
  dkimSamples: number;
  json: boolean;
  /** Run relaygate a second time with a webhook event destination taking Send and Delivery events of every message. */
  events: boolean;
  /** How long delivery may make no progress before the undelivered messages count as lost. */
  drainTimeoutSeconds: number;
  /** Bound on the whole run, setup and teardown included. */
  timeoutSeconds: number;
}

export const USAGE = `usage: npm run bench -- [options]

  --workload NAME[,NAME...]       reuse (5,000 × 2 KB, 20 sessions, 50 messages per connection, MAIL/RCPT/DATA
                                  pipelined), per-connection (the same with a new STARTTLS + AUTH session per
                                  message), large (1,000 × 100 KB, 50 per connection) (default reuse)
  --suite                         all three workloads, then --open-loop 80% and --idle-sessions 1000
  --runs N                        runs per MTA and workload, interleaved between the MTAs; medians are reported
                                  (default 3)
  --warmup N                      runs per MTA of each closed-loop workload before the measured ones, shown as
                                  "warm-up" and left out of the medians: a fresh relaygate spends its first
                                  seconds compiling its code (V8's JIT), which a relay that runs for weeks does
                                  not (default 1; 0: none)
  --messages N                    messages per run, for every workload (overrides the workload's count)
  --size BYTES                    size of each message, headers included, for every workload
  --connections K                 concurrent SMTP sessions, for every workload (default 20)
  --per-connection N              messages per session before QUIT, for every workload
  --open-loop RATE | P% | off     after the closed-loop runs, the reuse workload again at a fixed RATE (msg/s), or
                                  at P % of each MTA's own median accepted msg/s in the reuse workload (which then
                                  runs first if it was not chosen), regardless of replies; reports time to 250
                                  from each message's scheduled time
  --idle-sessions N               open N sessions to relaygate (STARTTLS + AUTH, then idle) and report its memory
                                  (0: off)
  --workers N                     relaygate's smtp.workers (default: not set, relaygate's own default)
  --compare-postfix               run the same workloads through the reference Postfix (default: when it can run:
                                  root, its script and packages present)
  --no-compare-postfix            relaygate only
  --postfix-script PATH           the reference Postfix script (default: RELAYGATE_POSTFIX_REFERENCE, else
                                  ../shared/bench/postfix-reference.sh from the project root)
  --install                       apt-get install what the reference Postfix lacks (needs root)
  --dkim-samples N                delivered messages per run whose DKIM signature is verified (default 10)
  --drain-timeout SECONDS         give up on delivery after this long without progress (default 30)
  --timeout SECONDS               bound on the whole run (default 3600)
  --events                        add relaygate with a webhook event destination taking Send + Delivery events of
                                  every message (batches of 100 records) to the runs, and compare
  --json                          print the result as JSON on stdout (progress goes to stderr)
  --help`;

const SUITE_OPEN_LOOP: OpenLoopRate = { percentOfPeak: 80 };
const SUITE_IDLE_SESSIONS = 1000;

export function parseBenchOptions(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      workload: { type: 'string' },
      suite: { type: 'boolean' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      messages: { type: 'string' },
      size: { type: 'string' },
      connections: { type: 'string' },
      'per-connection': { type: 'string' },
      'open-loop': { type: 'string' },
      'idle-sessions': { type: 'string' },
      workers: { type: 'string' },
      'compare-postfix': { type: 'boolean' },
      // parseArgs learnt --no-* options only in Node 22, and Node 20 must keep working.
      'no-compare-postfix': { type: 'boolean' },
      'postfix-script': { type: 'string' },
      install: { type: 'boolean' },
      'dkim-samples': { type: 'string' },
      'drain-timeout': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean' },
      events: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values['compare-postfix'] && values['no-compare-postfix']) throw new UsageError('--compare-postfix and --no-compare-postfix contradict each other');
  const suite = values.suite ?? false;
  const openLoopRate = values['open-loop'] === undefined ? (suite ? SUITE_OPEN_LOOP : null) : parseOpenLoop(values['open-loop']);
  const names = suite ? WORKLOAD_NAMES : parseWorkloadNames(values.workload ?? 'reuse');
  if (suite && values.workload !== undefined) throw new UsageError('--suite runs every workload; leave out --workload');
  // A percentage of the peak needs the reuse workload's closed-loop runs first.
  if (openLoopRate && 'percentOfPeak' in openLoopRate && !names.includes('reuse')) names.unshift('reuse');
  const override = {
    messages: optional(values.messages, '--messages'),
    size: optional(values.size, '--size'),
    connections: optional(values.connections, '--connections'),
    messagesPerConnection: optional(values['per-connection'], '--per-connection'),
  };
  const shapeOf = (name: WorkloadName): WorkloadShape => {
    const { messages, size, connections, messagesPerConnection } = WORKLOADS[name];
    return {
      name,
      messages: override.messages ?? messages,
      size: override.size ?? size,
      connections: override.connections ?? connections,
      messagesPerConnection: override.messagesPerConnection ?? messagesPerConnection,
    };
  };
  return {
    workloads: names.map(shapeOf),
    runs: positiveInteger(values.runs, 3, '--runs'),
    warmupRuns: values.warmup === undefined ? 1 : wholeNumber(values.warmup, '--warmup'),
    openLoop: openLoopRate && { rate: openLoopRate, workload: shapeOf('reuse') },
    idleSessions: values['idle-sessions'] === undefined ? (suite ? SUITE_IDLE_SESSIONS : 0) : wholeNumber(values['idle-sessions'], '--idle-sessions'),
    workers: optional(values.workers, '--workers') ?? null,
    comparePostfix: values['compare-postfix'] ? true : values['no-compare-postfix'] ? false : null,
    postfixScript: values['postfix-script'] ?? (process.env.RELAYGATE_POSTFIX_REFERENCE || DEFAULT_POSTFIX_SCRIPT),
    install: values.install ?? false,
    dkimSamples: positiveInteger(values['dkim-samples'], 10, '--dkim-samples'),
    json: values.json ?? false,
    events: values.events ?? false,
    drainTimeoutSeconds: positiveInteger(values['drain-timeout'], 30, '--drain-timeout'),
    timeoutSeconds: positiveInteger(values.timeout, 3600, '--timeout'),
  };
}

function parseWorkloadNames(text: string): WorkloadName[] {
  const names = text.split(',').map((name) => name.trim());
  for (const name of names) {
    if (!WORKLOAD_NAMES.includes(name as WorkloadName)) throw new UsageError(`--workload takes ${WORKLOAD_NAMES.join(', ')} (comma-separated), got "${name}"`);
  }
  return [...new Set(names as WorkloadName[])];
}

function parseOpenLoop(text: string): OpenLoopRate | null {
  if (text === 'off') return null;
  const percent = /^(\d+(?:\.\d+)?)%$/.exec(text);
  if (percent) {
    const percentOfPeak = Number(percent[1]);
    if (percentOfPeak <= 0 || percentOfPeak > 1000) throw new UsageError(`--open-loop takes a percentage above 0, got "${text}"`);
    return { percentOfPeak };
  }
  const perSecond = Number(text);
  if (!Number.isFinite(perSecond) || perSecond <= 0) throw new UsageError(`--open-loop takes messages per second, a percentage such as 80%, or off; got "${text}"`);
  return { perSecond };
}

function optional(text: string | undefined, option: string): number | undefined {
  return text === undefined ? undefined : positiveInteger(text, 0, option);
}

function wholeNumber(text: string, option: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new UsageError(`${option} takes a whole number, got "${text}"`);
  return value;
}

/** An option's whole-number value above zero, or `fallback` when it is absent. */
export function positiveInteger(text: string | undefined, fallback: number, option: string): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new UsageError(`${option} takes a positive whole number, got "${text}"`);
  return value;
}
