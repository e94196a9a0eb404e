import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../src/cli/cli-context.js';
import { createResolver } from '../src/delivery/mx/index.js';
import { startDnsServer } from '../test/support/dns-server.js';
import { startSinkMx } from '../test/support/sink-mx.js';
import { parseBenchOptions, USAGE, type BenchOptions } from './bench-options.js';
import { benchMessage } from './bench-message.js';
import { deliveredRatio, formatReport, type BenchReport } from './bench-report.js';
import { checkDkim, type DkimProbe } from './dkim-probe.js';
import { measureMta, type MtaResult, type Workload } from './measure-mta.js';
import type { MtaUnderTest } from './mta-under-test.js';
import { startPostfixTarget } from './postfix-target.js';
import { startEventReceiver } from './event-receiver.js';
import { startRelaygate } from './relaygate-target.js';
import { planTools } from './required-tools.js';
import { startSmtpSink } from './smtp-sink-process.js';
import { Teardown } from './teardown.js';

/** Sender and recipient domain: relaygate finds the sink as its MX, Postfix has the sink as relayhost. */
const DOMAIN = 'bench.example';
/** Any 127.0.0.x is loopback on Linux; a second address keeps the sink apart from the MTAs' own listeners. */
const SINK_HOST = '127.0.0.2';
const DKIM_SELECTOR = 'bench';
/** The DKIM probe's recipient domain, whose MX (and Postfix transport) is a recording sink. */
const PROBE_DOMAIN = `probe.${DOMAIN}`;
const PROBE_HOST = '127.0.0.3';
const PROBE_TIMEOUT_MS = 30_000;
/** Records per webhook envelope in the --events run: one signature per batch, as a high-volume destination would use. */
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
    return 0;
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
  const workload: Workload = {
    messages: options.messages,
    size: options.size,
    connections: options.connections,
    newConnectionPerMessage: options.newConnectionPerMessage,
    message: benchMessage(options.size, DOMAIN, DOMAIN, runId),
    drainTimeoutSeconds: options.drainTimeoutSeconds,
  };
  const postfixSkipped = await planTools(options, progress);
  if (postfixSkipped) progress(`Postfix comparison skipped: ${postfixSkipped}`);

  const workDir = mkdtempSync(join(tmpdir(), 'relaygate-bench-'));
  teardown.add(`remove ${workDir}`, () => rmSync(workDir, { recursive: true, force: true }));
  // Postfix's daemons run as the postfix user and must reach their directories inside.
  chmodSync(workDir, 0o755);
  const dns = await startDnsServer({
    [DOMAIN]: { MX: [{ exchange: `mx.${DOMAIN}`, priority: 10 }] },
    [`mx.${DOMAIN}`]: { A: [SINK_HOST] },
    [PROBE_DOMAIN]: { MX: [{ exchange: `mx.${PROBE_DOMAIN}`, priority: 10 }] },
    [`mx.${PROBE_DOMAIN}`]: { A: [PROBE_HOST] },
  });
  teardown.add('stop the DNS server', () => dns.close());
  const sink = await startSmtpSink(SINK_HOST);
  teardown.add('stop smtp-sink', () => sink.stop());
  // relaygate's MX port is one setting for all destinations, so the probe's MX listens on the sink's port number.
  const probeSink = await startSinkMx({ host: PROBE_HOST, port: sink.port, starttls: false });
  teardown.add('stop the DKIM probe MX', () => probeSink.close());
  const probe: DkimProbe = {
    sink: probeSink,
    message: benchMessage(options.size, DOMAIN, PROBE_DOMAIN, runId),
    resolver: createResolver({ servers: [dns.address] }),
    signingDomain: DOMAIN,
    timeoutMs: PROBE_TIMEOUT_MS,
  };
  const measure = async (mta: MtaUnderTest) => {
    for (const record of mta.dkimRecords) dns.setRecords(record.name, 'TXT', [record.value]);
    progress(`${mta.name}: sending a DKIM probe message`);
    mta.notes.push(await checkDkim(mta, probe));
    return measureMta(mta, sink, workload, progress);
  };

  const results: MtaResult[] = [];

  progress('starting relaygate');
  const relaygate = await startRelaygate(workDir, { dnsServer: dns.address, mxPort: sink.port, senderDomain: DOMAIN });
  teardown.add('stop relaygate', () => relaygate.stop());
  results.push(await measure(relaygate));
  // Stopped before Postfix runs, so none of its late deliveries can be counted as Postfix's.
  await relaygate.stop();

  let events: BenchReport['events'] = null;
  if (options.events) {
    const receiver = await startEventReceiver(EVENTS_BATCH_SIZE);
    teardown.add('stop the events webhook', () => receiver.close());
    progress('starting relaygate with a webhook event destination (Send, Delivery)');
    const withEvents = await startRelaygate(workDir, { dnsServer: dns.address, mxPort: sink.port, senderDomain: DOMAIN, eventsWebhook: receiver.url });
    teardown.add('stop relaygate with events', () => withEvents.stop());
    const result = await measure(withEvents);
    results.push(result);
    // Send + Delivery for every accepted message and the DKIM probe, unless no record came for 3 s.
    await waitForRecords(receiver, 2 * (result.accepted + 1), 3000);
    await withEvents.stop();
    events = { records: receiver.byType(), ratio: deliveredRatio(result, results[0]) };
  }

  if (!postfixSkipped) {
    progress('starting Postfix and OpenDKIM');
    const postfix = await startPostfixTarget(workDir, { host: SINK_HOST, port: sink.port }, { [PROBE_DOMAIN]: `[${PROBE_HOST}]:${sink.port}` }, { domain: DOMAIN, selector: DKIM_SELECTOR });
    teardown.add('stop Postfix and OpenDKIM', () => postfix.stop());
    results.push(await measure(postfix));
    await postfix.stop();
  }

  return {
    workload: { messages: options.messages, size: options.size, connections: options.connections, newConnectionPerMessage: options.newConnectionPerMessage },
    sink: `smtp-sink on ${SINK_HOST}:${sink.port}, the MX of ${DOMAIN} in a DNS server on ${dns.address} for relaygate, the relayhost for Postfix`,
    results,
    postfixSkipped,
    ratio: deliveredRatio(results[0], results.find((result) => !result.mta.startsWith('relaygate'))),
    events,
  };
}

async function waitForRecords(receiver: { records(): number }, expected: number, quietMs: number): Promise<void> {
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
