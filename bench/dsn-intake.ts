/**
 * `npm run bench:dsn`: how many RFC 3464 DSNs per second feedback intake parses and applies (Bounce events committed,
 * late bounces noted), first in-process (FeedbackIntake on a queue database), then over SMTP to a relaygate process's
 * intake listener (unauthenticated, no TLS, as MTAs return bounces; several connections, pipelined). The target is
 * 1,000 DSNs per second.
 */
import { rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { formatReturnPath } from '../src/delivery/return-path.js';
import { DeadLetterFolder } from '../src/feedback/intake/dead-letter-folder.js';
import { FeedbackDomains } from '../src/feedback/intake/feedback-domains.js';
import { FeedbackIntake } from '../src/feedback/intake/feedback-intake.js';
import { FeedbackParserPool } from '../src/feedback/intake/feedback-parser-pool.js';
import { readFeedback } from '../src/feedback/intake/read-feedback.js';
import type { QueuedMessage } from '../src/queue/queued-message.js';
import { SqliteQueueStore } from '../src/queue/sqlite-queue-store.js';
import { dsnText } from '../test/support/feedback-messages.js';
import { startGatewayProcess, tempDir } from '../test/support/gateway-process.js';
import { processCpuSeconds } from './process-cpu.js';
import { SmtpClientSession, UnexpectedReply } from './smtp-client-session.js';

const TARGET_PER_SECOND = 1000;
const FEEDBACK_DOMAIN = 'feedback.bench.test';
/** The node id of the bench's queue, given to its gateway too, so the return paths name it. */
const BENCH_NODE = 'bench';
const USAGE = `usage: npm run bench:dsn -- [--dsns N] [--warmup W] [--connections K] [--parser-threads T] [--json]

  --dsns N             DSNs timed in each phase (default 3000)
  --warmup W           DSNs sent first in each phase, untimed, so the figures are of a warm process (default 1000)
  --connections K      concurrent SMTP sessions, and DSNs in flight in-process (default 32)
  --parser-threads T   threads that parse in-process (default: CPUs - 1, as the gateway; 0: the main thread)
  --json               print the result as JSON on stdout (progress goes to stderr)`;

const progress = (line: string) => process.stderr.write(`bench:dsn: ${line}\n`);

function options(): { dsns: number; warmup: number; connections: number; parserThreads: number; json: boolean } {
  const { values } = parseArgs({ options: { dsns: { type: 'string' }, warmup: { type: 'string' }, connections: { type: 'string' }, 'parser-threads': { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const count = (value: string | undefined, fallback: number, name: string, least = 1) => {
    const number = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(number) || number < least) throw new Error(`${name} must be a whole number of at least ${least}`);
    return number;
  };
  return {
    dsns: count(values.dsns, 3000, '--dsns'),
    warmup: count(values.warmup, 1000, '--warmup', 0),
    connections: count(values.connections, 32, '--connections'),
    parserThreads: count(values['parser-threads'], availableParallelism() - 1, '--parser-threads', 0),
    json: values.json ?? false,
  };
}

/** Messages with one recipient each, delivered, as a DSN finds them; returns a DSN per message, to its return path. */
function seedQueue(queue: SqliteQueueStore, count: number, offset: number): Array<{ returnPath: string; text: Buffer; data: Buffer }> {
  const key = queue.returnPathKey();
  const now = Date.now();
  const messages: QueuedMessage[] = Array.from({ length: count }, (_, index) => ({
    id: `bench-${offset + index}`,
    accountId: '111122223333',
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    mailFrom: 'sender@bench.example',
    recipients: [`user${offset + index}@alpha.bench.example`],
    header: Buffer.from('From: sender@bench.example\r\n'),
    body: Buffer.from('hello\r\n'),
    bodyFile: '',
    size: 100,
    receivedAt: new Date(now),
    metadata: { sourceIp: '127.0.0.1', tls: true, heloName: 'client', ses: {}, configurationSet: null, tags: {} },
  }));
  queue.insert(messages);
  const claimed = queue.leases.claim(now, count, 60_000);
  queue.leases.record(
    {
      results: claimed.deliveries.map((delivery) => ({ deliveryId: delivery.id, messageId: delivery.messageId, state: 'delivered' as const, at: now, nextAttemptAt: null, response: '250 OK', remoteMta: '127.0.0.2', mxHost: 'mx.alpha.bench.example', sourceIp: '',
      outgoingIp: null, reportingMta: 'relaygate.bench.test', bounceType: null, bounceSubType: null, category: null })),
      releases: [],
      signatures: [],
      volumes: [],
      events: [],
    },
    now,
  );
  return claimed.deliveries.map((delivery) => {
    const returnPath = formatReturnPath(BENCH_NODE, delivery.id, delivery.messageId, FEEDBACK_DOMAIN, key);
    const text = dsnText({
      returnPath,
      messageId: `<dsn-${delivery.id}@mx.alpha.bench.example>`,
      recipients: [{ final: delivery.recipient, action: 'failed', status: '5.1.1', remoteMta: 'dns; [127.0.0.2]', diagnostic: `smtp; 550 5.1.1 <${delivery.recipient}>: Recipient address rejected: User unknown` }],
    });
    // Dot-stuffed for DATA once here, so the client's work during the timed phase is only sending.
    return { returnPath, text: Buffer.from(text, 'latin1'), data: Buffer.from(`${text.replace(/^\./gm, '..')}.\r\n`, 'latin1') };
  });
}

interface Timing {
  /** Wall-clock seconds. */
  seconds: number;
  /** CPU seconds of the process that did the work (this one in-process, the gateway over SMTP). */
  cpuSeconds: number;
}

/** Runs `work` over the items with `concurrency` in flight, timing it by the clock and by `pid`'s CPU time. */
async function timed<T>(items: readonly T[], concurrency: number, pid: number, work: (item: T) => Promise<void>): Promise<Timing> {
  const cpu = processCpuSeconds(pid);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: processCpuSeconds(pid) - cpu };
}

const countBounces = (queue: SqliteQueueStore) => queue.events.read(`bench-${Math.random()}`, 1_000_000).filter((event) => event.type === 'Bounce').length;

async function main(): Promise<void> {
  const { dsns, warmup, connections, parserThreads, json } = options();
  const dataDir = tempDir('relaygate-bench-dsn-');
  try {
    let queue = SqliteQueueStore.open(dataDir);
    const perPhase = warmup + dsns;
    progress(`seeding ${2 * perPhase} delivered messages and their DSNs`);
    const inProcess = seedQueue(queue, perPhase, 0);
    const overSmtp = seedQueue(queue, perPhase, perPhase);
    /** Runs a phase over the warm-up DSNs, then times it over the rest. */
    const phase = async <T>(items: readonly T[], concurrency: number, pid: number, work: (item: T) => Promise<void>) => {
      await timed(items.slice(0, warmup), concurrency, pid, work);
      return timed(items.slice(warmup), concurrency, pid, work);
    };

    progress('parsing only (mailparser and the DSN fields), one after another');
    const parse = await phase(inProcess, 1, process.pid, async ({ text }) => {
      if ((await readFeedback(text)).kind !== 'delivery-status') throw new Error('a bench DSN was not read as one');
    });

    progress(`parsing (${parserThreads > 0 ? `${parserThreads} parser threads, as the gateway` : 'in the main thread'}) and applying in-process, ${connections} in flight`);
    const log = pino({ level: 'silent' });
    const parsers = new FeedbackParserPool(parserThreads, log);
    const intake = new FeedbackIntake({
      records: queue.feedback,
      returnPathKey: queue.returnPathKey(),
      nodeId: BENCH_NODE,
      domains: new FeedbackDomains(FEEDBACK_DOMAIN, async () => []),
      deadLetters: new DeadLetterFolder(join(dataDir, 'dead-letter'), 1024 * 1024 * 1024),
      messageIdDomain: 'relaygate.bench.test',
      log,
      ...(parserThreads > 0 ? { read: (raw: Buffer) => parsers.read(raw) } : {}),
    });
    const apply = await phase(inProcess, connections, process.pid, async ({ returnPath, text }) => {
      const verdict = await intake.checkRecipient(returnPath);
      if (!verdict.accepted) throw new Error(`${returnPath} refused: ${verdict.refusal}`);
      if (!('target' in verdict)) throw new Error(`${returnPath} taken for node ${verdict.node}`);
      const outcome = await intake.receive({ mailFrom: '', recipients: [returnPath], remoteAddress: '127.0.0.1', targets: [verdict.target] }, text);
      if (outcome !== 'bounce') throw new Error(`a bench DSN ended as ${outcome}`);
    });
    await parsers.close();
    if (countBounces(queue) !== perPhase) throw new Error(`expected ${perPhase} Bounce events in-process, found ${countBounces(queue)}`);
    queue.close();

    progress(`over SMTP: ${connections} connections to a relaygate intake listener, no TLS, pipelined`);
    const gateway = await startGatewayProcess({
      dataDir,
      listen: ['127.0.0.1:0=starttls+intake'],
      config: { smtp: { hostname: 'relaygate.bench.test' }, delivery: { enabled: false, feedbackDomain: FEEDBACK_DOMAIN }, cluster: { nodeId: BENCH_NODE } },
    });
    let smtp: Timing;
    try {
      const sessions = await Promise.all(Array.from({ length: connections }, () => SmtpClientSession.openPlain({ host: '127.0.0.1', port: gateway.intakePorts[0]!, replyTimeoutMs: 30_000 })));
      const idle = [...sessions];
      smtp = await phase(overSmtp, connections, gateway.child.pid!, async ({ returnPath, data: message }) => {
        const session = idle.pop()!;
        const [mail, rcpt, data] = await session.commands(['MAIL FROM:<>\r\n', `RCPT TO:<${returnPath}>\r\n`, 'DATA\r\n']);
        if (mail!.code !== 250 || rcpt!.code !== 250 || data!.code !== 354) throw new UnexpectedReply('envelope', rcpt!.code !== 250 ? rcpt! : data!);
        session.writeAll([message]);
        const reply = await session.reply();
        if (reply.lines[0] !== '250 Ok: bounce recorded') throw new UnexpectedReply('end of data', reply);
        idle.push(session);
      });
      await Promise.all(sessions.map((session) => session.quit()));
    } finally {
      await gateway.stop();
    }
    queue = SqliteQueueStore.open(dataDir);
    const total = countBounces(queue);
    queue.close();
    if (total !== 2 * perPhase) throw new Error(`expected ${2 * perPhase} Bounce events in all, found ${total}`);

    const figures = (timing: Timing) => ({ perSecond: Math.round(dsns / timing.seconds), cpuMsPerDsn: Number(((timing.cpuSeconds * 1000) / dsns).toFixed(2)) });
    const result = {
      dsns,
      warmup,
      bytesPerDsn: inProcess[0]!.text.length,
      connections,
      cpus: availableParallelism(),
      loadAverage: Number(loadavg()[0]!.toFixed(1)),
      parserThreads,
      parseOnly: figures(parse),
      inProcess: figures(apply),
      overSmtp: figures(smtp),
      targetPerSecond: TARGET_PER_SECOND,
    };
    const met = result.inProcess.perSecond >= TARGET_PER_SECOND && result.overSmtp.perSecond >= TARGET_PER_SECOND;
    if (json) process.stdout.write(`${JSON.stringify({ ...result, met })}\n`);
    else {
      const row = (label: string, { perSecond, cpuMsPerDsn }: { perSecond: number; cpuMsPerDsn: number }) =>
        `  ${label.padEnd(52)}${String(perSecond).padStart(6)} DSNs/s   ${cpuMsPerDsn.toFixed(2).padStart(5)} ms CPU per DSN`;
      process.stdout.write(
        [
          `DSN intake: ${dsns} DSNs timed per phase after ${warmup} to warm up, ${result.bytesPerDsn} bytes each, ${connections} in flight; ${result.cpus} CPUs, load average ${result.loadAverage}`,
          row('parse only (mailparser + DSN fields), sequential', result.parseOnly),
          row(`parse (${parserThreads} threads) + apply in-process, committed`, result.inProcess),
          row('over SMTP to the intake listener (gateway CPU)', result.overSmtp),
          `  target ${TARGET_PER_SECOND} DSNs/s (wall clock, in-process and over SMTP): ${met ? 'met' : 'NOT met'}`,
          '',
        ].join('\n'),
      );
    }
    if (!met) process.exitCode = 1;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:dsn: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
