import { startDnsServer, type TestDnsServer } from '../test/support/dns-server.js';
import { testDeliveryConfig } from '../test/support/delivery-fixture.js';
import { startSinkMx, type SinkBehaviour, type SinkMx } from '../test/support/sink-mx.js';

/** Any 127.0.0.x is loopback on Linux; its own address keeps the sink apart from the gateway's listeners. */
const SINK_HOST = '127.0.0.2';

export interface LoopbackDestination {
  /** The recipient domain whose MX is the sink. */
  domain: string;
  dns: TestDnsServer;
  sink: SinkMx;
  /** The gateway configuration that delivers there: MX lookups at the DNS server, the sink's port, loopback allowed. */
  gatewayConfig(extra?: Record<string, unknown>): Record<string, unknown>;
  close(): Promise<void>;
}

/**
 * A recipient domain on loopback: a DNS server answers its MX with a recording sink MX (test/support/sink-mx.ts,
 * plaintext, so delivery costs no TLS handshake), and the gateway is told to use both.
 */
export async function startLoopbackDestination(domain: string, behaviour?: SinkBehaviour): Promise<LoopbackDestination> {
  const dns = await startDnsServer({
    [domain]: { MX: [{ exchange: `mx.${domain}`, priority: 10 }] },
    [`mx.${domain}`]: { A: [SINK_HOST] },
  });
  let sink: SinkMx;
  try {
    sink = await startSinkMx({ host: SINK_HOST, starttls: false, behaviour });
  } catch (error) {
    await dns.close();
    throw error;
  }
  return {
    domain,
    dns,
    sink,
    gatewayConfig: (extra = {}) => ({ ...testDeliveryConfig(dns, sink.port), ...extra }),
    async close() {
      await sink.close();
      await dns.close();
    },
  };
}
