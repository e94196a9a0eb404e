import { rmSync } from 'node:fs';
import { tempDir } from '../../test/support/gateway-process.js';
import { provisionCredential } from '../../test/support/provision.js';
import { startLoopbackDestination } from '../loopback-destination.js';
import { peakRssMiB, rssMiB } from '../process-memory.js';
import { Teardown } from '../teardown.js';
import { WatchedGateway, type GatewayExit } from '../watched-gateway.js';
import type { Finding } from './fuzz-connection.js';
import { runSession, type SessionTarget } from './fuzz-session.js';
import { sessionSeed } from '../prng.js';
import { SinkAudit } from './sink-audit.js';

export interface FuzzOptions {
  seed: number;
  /** Stop starting sessions once this many lines have been sent. */
  lines: number;
  concurrency: number;
  /** A reply (handshake, close) owed for longer than this on an open connection is a hang. */
  deadlineMs: number;
  /** After the last session, how long delivery may make no progress before the run stops waiting for it. */
  drainTimeoutMs: number;
  progress?: (line: string) => void;
  /** Replays only the session whose seed is `seed` (not a run seed), its dialogue written here. */
  replay?: (line: string) => void;
  /** Aborted: no new session starts; the result covers those run so far. */
  signal?: AbortSignal;
  /** After a crash, start the gateway again on the same data directory and go on (default: the run ends). */
  keepGoing?: boolean;
}

export interface SessionFinding extends Finding {
  /** The session's seed: `npm run fuzz -- --session SEED` replays it alone. */
  session: number;
}

export interface FuzzResult {
  seed: number;
  lines: number;
  bytes: number;
  sessions: number;
  seconds: number;
  counts: { malformed: number; hangs: number; desyncs: number };
  /** Up to a few findings of each problem, with the session that found it. */
  findings: SessionFinding[];
  /** Exits of the gateway nobody asked for, with the sessions in flight at the time. */
  crashes: Array<GatewayExit & { sessionsInFlight: number[] }>;
  accepted: number;
  acceptedForSink: number;
  sink: { delivered: number; withNul: number; withBareLineEnding: number; withLongLine: number; longestLine: number; examples: string[] };
  rssMiB: { start: number | null; peak: number | null; end: number | null };
  gatewayErrors: Array<{ message: string; count: number; example: string }>;
}

const SENDER_DOMAIN = 'example.com';
const RECIPIENT_DOMAIN = 'fuzz.example';
const FINDINGS_PER_PROBLEM = 3;

/**
 * A fuzzing run against a real gateway: `relaygate serve` as a child process with a provisioned credential, delivering
 * to a sink MX on loopback, and sessions from runSession() until the line budget is spent. The run's seed gives every
 * session's seed, so each can be replayed alone.
 */
export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  const teardown = new Teardown();
  try {
    return await fuzz(options, teardown);
  } finally {
    await teardown.run((line) => options.progress?.(line));
  }
}

async function fuzz(options: FuzzOptions, teardown: Teardown): Promise<FuzzResult> {
  const progress = options.progress ?? (() => undefined);
  const audit = new SinkAudit();
  const destination = await startLoopbackDestination(RECIPIENT_DOMAIN, (ctx) => {
    if (ctx.stage === 'DATA') audit.record(ctx.raw);
    return 'accept';
  });
  teardown.add('stop the sink MX and the DNS server', () => destination.close());
  const dataDir = tempDir('relaygate-fuzz-');
  teardown.add(`remove ${dataDir}`, () => rmSync(dataDir, { recursive: true, force: true }));

  const inFlight = new Set<number>();
  const crashes: FuzzResult['crashes'] = [];
  const config = destination.gatewayConfig({
    smtp: { hostname: 'relaygate.fuzz.test' },
    // Failed AUTH is part of the mix: without this the throttle would soon refuse every session from 127.0.0.1.
    authThrottle: { freeFailures: 1000, delayStepMs: 0, maxDelayMs: 0, blockAfterFailures: 100_000 },
    log: { level: 'info' },
  });
  const gateways: WatchedGateway[] = [];
  let restarting: Promise<void> | null = null;
  const startGateway = async () => {
    const started = await WatchedGateway.start({ dataDir, config }, (exit) => {
      crashes.push({ ...exit, sessionsInFlight: [...inFlight] });
      progress(`the gateway exited (code ${exit.code}, signal ${exit.signal}) with sessions in flight: ${[...inFlight].join(', ')}`);
      if (options.keepGoing) restarting = restart();
    });
    gateways.push(started);
    return started;
  };
  let gateway = await startGateway();
  teardown.add('stop the gateway', () => gateway.stop());
  const credential = await provisionCredential(dataDir, { verifiedIdentities: [SENDER_DOMAIN] });
  const target: SessionTarget = {
    starttlsPort: gateway.process.starttlsPorts[0]!,
    tlsPort: gateway.process.tlsPorts[0]!,
    addresses: { senderDomain: SENDER_DOMAIN, recipientDomain: RECIPIENT_DOMAIN, user: credential.user, password: credential.password },
    deadlineMs: options.deadlineMs,
  };

  const startRss = rssMiB(gateway.pid);
  // Sampled as the run goes: after a crash the process and its high-water mark are gone.
  let peakRss = startRss;
  const samplePeak = () => {
    peakRss = Math.max(peakRss ?? 0, peakRssMiB(gateway.pid) ?? 0) || peakRss;
  };
  /** A crashed gateway is replaced on the same data directory; sessions from then on connect to its ports. */
  let restartFailed = false;
  const restart = async () => {
    samplePeak();
    try {
      gateway = await startGateway();
      target.starttlsPort = gateway.process.starttlsPorts[0]!;
      target.tlsPort = gateway.process.tlsPorts[0]!;
      progress('the gateway was started again; the run goes on');
    } catch (error) {
      restartFailed = true;
      progress(`the gateway did not start again: ${(error as Error).message.split('\n')[0]}`);
    } finally {
      restarting = null;
    }
  };

  const started = Date.now();
  const totals = { lines: 0, bytes: 0, sessions: 0, accepted: 0, acceptedForSink: 0 };
  const counts = { malformed: 0, hangs: 0, desyncs: 0 };
  const findings: SessionFinding[] = [];
  const shown = new Map<string, number>();
  let next = 0;

  const worker = async () => {
    while (totals.lines < options.lines && (crashes.length === 0 || options.keepGoing) && !restartFailed && !options.signal?.aborted) {
      if (restarting) await restarting;
      const seed = options.replay ? options.seed : sessionSeed(options.seed, next++);
      inFlight.add(seed);
      const report = await runSession(seed, target, options.replay);
      inFlight.delete(seed);
      totals.sessions++;
      totals.lines += report.lines;
      totals.bytes += report.bytes;
      totals.accepted += report.accepted;
      totals.acceptedForSink += report.acceptedForSink;
      for (const finding of report.findings) {
        if (finding.kind === 'malformed') counts.malformed++;
        if (finding.kind === 'hang') counts.hangs++;
        if (finding.kind === 'desync') counts.desyncs++;
        const key = `${finding.kind} ${finding.problem}`;
        const seen = shown.get(key) ?? 0;
        shown.set(key, seen + 1);
        if (seen < FINDINGS_PER_PROBLEM) findings.push({ ...finding, session: seed });
      }
      if (options.replay) return;
    }
  };
  const ticker = setInterval(() => {
    samplePeak();
    const seconds = (Date.now() - started) / 1000;
    progress(
      `${totals.lines} lines, ${totals.sessions} sessions, ${Math.round(totals.lines / seconds)} lines/s; ` +
        `malformed ${counts.malformed}, hangs ${counts.hangs}, desyncs ${counts.desyncs}; accepted ${totals.accepted}, delivered ${audit.delivered}`,
    );
    // The sink's own list would keep every delivered message; the audit has already seen them.
    destination.sink.messages.splice(0);
  }, 5000);
  try {
    await Promise.all(Array.from({ length: options.replay ? 1 : options.concurrency }, worker));
  } finally {
    clearInterval(ticker);
  }
  const seconds = (Date.now() - started) / 1000;

  if (restarting) await restarting;
  if ((crashes.length === 0 || options.keepGoing) && !restartFailed) await waitForDeliveries(() => audit.delivered, totals.acceptedForSink, options.drainTimeoutMs, progress);
  samplePeak();
  const endRss = rssMiB(gateway.pid);
  await gateway.stop();
  return {
    seed: options.seed,
    lines: totals.lines,
    bytes: totals.bytes,
    sessions: totals.sessions,
    seconds,
    counts,
    findings,
    crashes,
    accepted: totals.accepted,
    acceptedForSink: totals.acceptedForSink,
    sink: {
      delivered: audit.delivered,
      withNul: audit.withNul,
      withBareLineEnding: audit.withBareLineEnding,
      withLongLine: audit.withLongLine,
      longestLine: audit.longestLine,
      examples: audit.examples,
    },
    rssMiB: { start: startRss, peak: peakRss, end: endRss },
    gatewayErrors: mergeErrors(gateways),
  };
}

/** Until the sink has `expected` messages, or nothing has arrived for `idleMs`. */
async function waitForDeliveries(delivered: () => number, expected: number, idleMs: number, progress: (line: string) => void): Promise<void> {
  let last = delivered();
  let lastChange = Date.now();
  while (delivered() < expected && Date.now() - lastChange < idleMs) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    if (delivered() !== last) {
      last = delivered();
      lastChange = Date.now();
    }
  }
  if (delivered() < expected) progress(`delivery stopped at ${delivered()} of ${expected} messages bound for the sink`);
}

/** Whether the run found something the gateway must not do. */
export function failed(result: FuzzResult): boolean {
  return result.crashes.length > 0 || result.counts.malformed > 0 || result.counts.hangs > 0 || result.counts.desyncs > 0;
}

/** Error records by message over every gateway process of the run. */
function mergeErrors(gateways: WatchedGateway[]): FuzzResult['gatewayErrors'] {
  const merged = new Map<string, { count: number; example: string }>();
  for (const gateway of gateways) {
    for (const [message, { count, example }] of gateway.errors) {
      const seen = merged.get(message);
      if (seen) seen.count += count;
      else merged.set(message, { count, example });
    }
  }
  return [...merged].map(([message, { count, example }]) => ({ message, count, example }));
}
