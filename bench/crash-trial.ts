import { randomInt } from 'node:crypto';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../src/cli/cli-context.js';
import { SqliteQueueStore } from '../src/queue/sqlite-queue-store.js';
import { tempDir } from '../test/support/gateway-process.js';
import { provisionCredential, type TestCredential } from '../test/support/provision.js';
import { positiveInteger } from './bench-options.js';
import { copiesById, startSubmitting, tokenOf } from './crash-trial-load.js';
import { startLoopbackDestination, type LoopbackDestination } from './loopback-destination.js';
import { Prng } from './prng.js';
import { Teardown } from './teardown.js';
import { WatchedGateway } from './watched-gateway.js';

const USAGE = `usage: npm run crash-trial -- [options]

  --trials N               trials, each with its own gateway and data directory (default 20)
  --seed N                 seed for the kill moments and message sizes (default: a random one, printed)
  --clients K              clients submitting over STARTTLS + AUTH at the same time (default 8)
  --max-kill-delay MS      the kill comes at a random moment up to this long after the first acknowledged message
                           (default 3000)
  --drain-timeout SECONDS  after the restart, give up waiting for delivery after this long without progress (default 30)
  --json                   print the trials as JSON on stdout (progress goes to stderr)
  --help

Each trial: start relaygate delivering to a sink MX, load it, SIGKILL it at a random moment, start it again on the
same data directory, let the queue drain, and compare what the clients were told (250 Ok <id>) with what the sink
received (by Message-ID). Exits 1 when a message was lost, duplicated outside the deliveries in flight at the kill,
or the gateway failed otherwise.`;

const SENDER_DOMAIN = 'example.com';
const RECIPIENT_DOMAIN = 'crash.example';
const MIN_KILL_DELAY_MS = 200;
/**
 * A delivery is in flight at the kill when the MX has the message but the gateway has not yet written the result:
 * results gather for 10 ms before one commit (src/delivery/result-recorder.ts), and a loaded event loop adds to that.
 * A duplicate whose first copy arrived longer than this before the kill was delivered again without cause, and so is
 * one delivered a second time by the same process.
 */
const IN_FLIGHT_WINDOW_MS = 1000;

interface TrialOptions {
  trials: number;
  seed: number;
  clients: number;
  maxKillDelayMs: number;
  drainTimeoutMs: number;
  json: boolean;
}

interface TrialRandomness {
  kills: Prng;
  sizes: Prng;
}

interface TrialResult {
  trial: number;
  killAfterMs: number;
  acked: number;
  /** Distinct messages (by Message-ID) the sink received. */
  delivered: number;
  /** Delivered although the client never saw the 250: committed just before the kill. */
  deliveredUnacked: number;
  lost: string[];
  /**
   * Message ids delivered more than once, with how long before the kill the first copy was read at the sink (negative:
   * after, when this process read what the killed one had sent), and whether it was a delivery in flight at the kill.
   */
  duplicated: Array<{ id: string; copies: number; firstCopyBeforeKillMs: number; inFlight: boolean }>;
  /** Whether every duplicate was a delivery in flight at the kill (its first copy arrived just before it). */
  duplicatesOnlyInFlight: boolean;
  /** Body files left in the spool once every message was final. */
  spoolFilesLeft: number;
  /** Messages refused, by reply. */
  refused: Record<string, number>;
  /** Anything that went wrong with the gateway itself: an exit nobody asked for, a restart that failed, a queue that did not drain. */
  problems: string[];
}

const progress = (line: string) => process.stderr.write(`crash-trial: ${line}\n`);

function parseOptions(argv: string[]): TrialOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      trials: { type: 'string' },
      seed: { type: 'string' },
      clients: { type: 'string' },
      'max-kill-delay': { type: 'string' },
      'drain-timeout': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const maxKillDelayMs = positiveInteger(values['max-kill-delay'], 3000, '--max-kill-delay');
  if (maxKillDelayMs < MIN_KILL_DELAY_MS) throw new UsageError(`--max-kill-delay must be at least ${MIN_KILL_DELAY_MS}`);
  return {
    trials: positiveInteger(values.trials, 20, '--trials'),
    seed: values.seed === undefined ? randomInt(0xffff_ffff) : positiveInteger(values.seed, 0, '--seed'),
    clients: positiveInteger(values.clients, 8, '--clients'),
    maxKillDelayMs,
    drainTimeoutMs: positiveInteger(values['drain-timeout'], 30, '--drain-timeout') * 1000,
    json: values.json ?? false,
  };
}

async function runTrial(trial: number, options: TrialOptions, rngs: TrialRandomness, destination: LoopbackDestination, teardown: Teardown): Promise<TrialResult> {
  const problems: string[] = [];
  const dataDir = tempDir('relaygate-crash-trial-');
  teardown.add(`remove ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));
  const config = destination.gatewayConfig({ smtp: { hostname: 'relaygate.crash.test' } });
  const unexpectedExit = (when: string) => (exit: { code: number | null; signal: string | null; stderr: string }) =>
    problems.push(`the gateway exited ${when} (code ${exit.code}, signal ${exit.signal}): ${exit.stderr.trim().split('\n').slice(-3).join(' | ')}`);

  destination.sink.messages.splice(0);
  let gateway = await WatchedGateway.start({ dataDir, config }, unexpectedExit('under load'));
  teardown.add('stop the gateway', () => gateway.stop());
  const credential: TestCredential = await provisionCredential(dataDir, { verifiedIdentities: [SENDER_DOMAIN] });

  const stopLoad = new AbortController();
  const { load, finished } = startSubmitting({
    target: { host: '127.0.0.1', port: gateway.process.starttlsPorts[0]!, user: credential.user, password: credential.password, replyTimeoutMs: 10_000 },
    clients: options.clients,
    senderDomain: SENDER_DOMAIN,
    recipientDomain: RECIPIENT_DOMAIN,
    trial,
    rng: rngs.sizes,
    signal: stopLoad.signal,
  });
  // The clock starts at the first acknowledged message, so the kill always falls into a running load.
  const killAfterMs = rngs.kills.between(MIN_KILL_DELAY_MS, options.maxKillDelayMs);
  const loadDeadline = Date.now() + options.drainTimeoutMs;
  while (load.acked.size === 0 && gateway.crash === null && Date.now() < loadDeadline) await new Promise((resolve) => setTimeout(resolve, 10));
  if (load.acked.size === 0) problems.push(`no message acknowledged within ${options.drainTimeoutMs / 1000} s: ${[...load.refused.keys()].join('; ')}`);
  await new Promise((resolve) => setTimeout(resolve, killAfterMs));
  const killAt = Date.now();
  stopLoad.abort();
  await gateway.kill();
  await finished;
  progress(`trial ${trial}: killed after ${killAfterMs} ms with ${load.acked.size} messages acknowledged; restarting`);

  // Whatever the sink reads before this was sent by the killed process, even if this process reads it after the kill.
  const restartAt = Date.now();
  try {
    gateway = await WatchedGateway.start({ dataDir, config }, unexpectedExit('after the restart'));
  } catch (error) {
    problems.push(`the gateway did not start again after the kill: ${(error as Error).message.split('\n')[0]}`);
  }
  const restartedAt = Date.now();
  if (gateway.crash === null && problems.length === 0) await waitUntilDrained(dataDir, options.drainTimeoutMs, () => destination.sink.messages.length, problems);
  progress(`trial ${trial}: queue drained ${Date.now() - restartedAt} ms after the restart`);
  await gateway.stop();

  const copies = copiesById(destination.sink.messages);
  const deliveredTokens = new Set([...destination.sink.messages].map((message) => tokenOf(message.raw)));
  const duplicated = [...copies]
    .filter(([, received]) => received.length > 1)
    .map(([id, received]) => ({
      id,
      copies: received.length,
      firstCopyBeforeKillMs: killAt - received[0]!.receivedAt,
      // In flight at the kill: the first copy came from the killed process shortly before its end, the second from the restarted one.
      inFlight: received.length === 2 && received[0]!.receivedAt >= killAt - IN_FLIGHT_WINDOW_MS && received[0]!.receivedAt < restartAt && received[1]!.receivedAt >= restartAt,
    }));
  return {
    trial,
    killAfterMs,
    acked: load.acked.size,
    delivered: copies.size,
    deliveredUnacked: [...load.unconfirmed].filter((token) => deliveredTokens.has(token)).length,
    lost: [...load.acked.keys()].filter((id) => !copies.has(id)),
    duplicated,
    duplicatesOnlyInFlight: duplicated.every((duplicate) => duplicate.inFlight),
    spoolFilesLeft: countFiles(join(dataDir, 'spool')),
    refused: Object.fromEntries(load.refused),
    problems,
  };
}

/** Until every message in the queue is final, or delivery has made no progress for `idleMs`. */
async function waitUntilDrained(dataDir: string, idleMs: number, delivered: () => number, problems: string[]): Promise<void> {
  let last = delivered();
  let lastChange = Date.now();
  for (;;) {
    const queue = SqliteQueueStore.open(dataDir);
    let pending: number;
    try {
      pending = queue.list({ pendingOnly: true }).length;
    } finally {
      queue.close();
    }
    if (pending === 0) return;
    if (delivered() !== last) {
      last = delivered();
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > idleMs) {
      problems.push(`${pending} messages still in the queue after ${idleMs / 1000} s without a delivery`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function countFiles(directory: string): number {
  let files = 0;
  let entries: string[];
  try {
    entries = readdirSync(directory);
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(directory, entry);
    files += statSync(path).isDirectory() ? countFiles(path) : 1;
  }
  return files;
}

function formatTrial(result: TrialResult): string {
  const duplicates = result.duplicated.length === 0
    ? 'duplicated 0'
    : `duplicated ${result.duplicated.length} (${result.duplicatesOnlyInFlight ? 'all in flight at the kill' : 'NOT ONLY IN FLIGHT AT THE KILL'}: first copies ${result.duplicated.map((d) => `${d.firstCopyBeforeKillMs} ms`).join(', ')} before it)`;
  const lines = [
    `trial ${String(result.trial).padStart(2)}: killed after ${result.killAfterMs} ms; acked ${result.acked}, delivered ${result.delivered}` +
      (result.deliveredUnacked ? ` (${result.deliveredUnacked} never acknowledged: committed just before the kill)` : '') +
      `, lost ${result.lost.length}, ${duplicates}` +
      (result.spoolFilesLeft ? `, ${result.spoolFilesLeft} spool files left` : '') +
      Object.entries(result.refused)
        .map(([reply, count]) => `, ${count} refused (${reply})`)
        .join(''),
  ];
  for (const id of result.lost.slice(0, 5)) lines.push(`  lost: ${id}`);
  for (const problem of result.problems) lines.push(`  PROBLEM: ${problem}`);
  return lines.join('\n');
}

function trialFailed(result: TrialResult): boolean {
  return result.lost.length > 0 || !result.duplicatesOnlyInFlight || result.spoolFilesLeft > 0 || result.problems.length > 0;
}

async function main(argv: string[]): Promise<number> {
  let options: TrialOptions | 'help';
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof TypeError)) throw error;
    process.stderr.write(`crash-trial: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  progress(`seed ${options.seed}, ${options.trials} trials, ${options.clients} clients, kill within ${MIN_KILL_DELAY_MS}–${options.maxKillDelayMs} ms`);
  // Two sequences: the load draws message sizes at a pace that depends on timing, the kill moments must not.
  const rngs: TrialRandomness = { kills: new Prng(options.seed), sizes: new Prng(options.seed ^ 0x5bd1e995) };
  const teardown = new Teardown();
  const stop = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());
  const results: TrialResult[] = [];
  try {
    const destination = await startLoopbackDestination(RECIPIENT_DOMAIN);
    teardown.add('stop the sink MX and the DNS server', () => destination.close());
    for (let trial = 1; trial <= options.trials && !stop.signal.aborted; trial++) {
      const trialTeardown = new Teardown();
      try {
        results.push(await runTrial(trial, options, rngs, destination, trialTeardown));
      } finally {
        await trialTeardown.run(progress);
      }
      if (!options.json) process.stdout.write(`${formatTrial(results[results.length - 1]!)}\n`);
    }
  } catch (error) {
    progress(`failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await teardown.run(progress);
  }
  const sum = (pick: (result: TrialResult) => number) => results.reduce((total, result) => total + pick(result), 0);
  const failedTrials = results.filter(trialFailed).length;
  const summary = {
    seed: options.seed,
    trials: results.length,
    acked: sum((r) => r.acked),
    delivered: sum((r) => r.delivered),
    lost: sum((r) => r.lost.length),
    duplicated: sum((r) => r.duplicated.length),
    duplicatesOnlyInFlight: results.every((r) => r.duplicatesOnlyInFlight),
    failedTrials,
  };
  if (options.json) process.stdout.write(`${JSON.stringify({ summary, trials: results }, null, 2)}\n`);
  else {
    process.stdout.write(
      `summary: ${summary.trials} trials (seed ${summary.seed}): acked ${summary.acked}, delivered ${summary.delivered}, lost ${summary.lost}, ` +
        `duplicated ${summary.duplicated} (${summary.duplicatesOnlyInFlight ? 'only deliveries in flight at the kill' : 'SOME NOT IN FLIGHT AT THE KILL'}), ` +
        `trials with a problem ${failedTrials}\n`,
    );
  }
  return failedTrials > 0 || stop.signal.aborted ? 1 : 0;
}

// Exit explicitly: sessions cut by the kill may leave sockets behind.
process.exit(await main(process.argv.slice(2)));
