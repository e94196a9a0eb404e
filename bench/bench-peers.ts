import type { promises as dns } from 'node:dns';
import { createResolver } from '../src/delivery/mx/index.js';
import { startDnsServer } from '../test/support/dns-server.js';
import type { SinkUsage } from './bench-report.js';
import { POSTFIX_DKIM_DOMAIN } from './postfix-reference.js';
import type { Teardown } from './teardown.js';
import { startTokenSink, type TokenSink } from './token-sink-process.js';

/** Recipient domain: relaygate finds the sink as its MX; the reference Postfix relays everything to the sink anyway. */
export const RECIPIENT_DOMAIN = 'bench.example';
/** The From domain: the reference Postfix's OpenDKIM signs only for it, and relaygate has it as a verified identity. */
export const SENDER_DOMAIN = POSTFIX_DKIM_DOMAIN;
/** The reference script relays to [127.0.0.1]:PF_SINK_PORT. */
const SINK_HOST = '127.0.0.1';

/** What the MTAs under test talk to: the DNS server with the recipient domain's MX (and the DKIM keys), and the sink. */
export interface BenchPeers {
  /** '127.0.0.1:PORT' */
  dnsServer: string;
  sink: TokenSink;
  /** Resolves through the bench's DNS server (for the DKIM check). */
  resolver: dns.Resolver;
  /** Publishes a TXT record (a DKIM public key) in the DNS server. */
  publishTxt(name: string, value: string): void;
  /** The sink as the report describes it. */
  describeSink(relayhostToo: boolean): string;
  /** The sink's messages and CPU time since it started, and those it could not count for any run. */
  sinkUsage(): Promise<SinkUsage>;
}

/** Starts the DNS server and the token sink; both are stopped by the teardown. */
export async function startBenchPeers(teardown: Teardown): Promise<BenchPeers> {
  const server = await startDnsServer({
    [RECIPIENT_DOMAIN]: { MX: [{ exchange: `mx.${RECIPIENT_DOMAIN}`, priority: 10 }] },
    [`mx.${RECIPIENT_DOMAIN}`]: { A: [SINK_HOST] },
  });
  teardown.add('stop the DNS server', () => server.close());
  const sink = await startTokenSink(SINK_HOST);
  teardown.add('stop the token sink', () => sink.stop());
  const atStart = await sink.usage();
  return {
    dnsServer: server.address,
    sink,
    resolver: createResolver({ servers: [server.address] }),
    publishTxt: (name, value) => server.setRecords(name, 'TXT', [value]),
    describeSink: (relayhostToo) =>
      `bench/token-sink.ts on ${SINK_HOST}:${sink.port}, the MX of ${RECIPIENT_DOMAIN} (DNS server on ${server.address}) for relaygate${relayhostToo ? ', the relayhost for Postfix' : ''}`,
    async sinkUsage() {
      const now = await sink.usage();
      const messages = now.messages - atStart.messages;
      return { messages, cpuMsPerMessage: messages > 0 ? (now.cpuMs - atStart.cpuMs) / messages : null, strays: now.strays };
    },
  };
}
