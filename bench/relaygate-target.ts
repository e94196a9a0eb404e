import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELAYGATE_BIN, REPO_ROOT, startGatewayProcess } from '../test/support/gateway-process.js';
import type { MtaUnderTest } from './mta-under-test.js';
import { runChecked } from './run-checked.js';

export interface RelaygateSetup {
  /** '127.0.0.1:PORT' of the DNS server that has the recipient domain's MX. */
  dnsServer: string;
  /** Port the MX (the sink) listens on. */
  mxPort: number;
  /** The From domain, made a verified identity that signs with DKIM. */
  senderDomain: string;
  /** A webhook for a configuration-set event destination taking Send and Delivery events of every message (the identity's default set). */
  eventsWebhook?: string;
  /** smtp.workers; absent, the key is left out of the configuration and relaygate's default holds. */
  workers?: number;
}

/**
 * Starts `relaygate serve` as an operator would set it up with the CLI: an account out of the sandbox with limits far
 * above the workload, the sender domain as a verified identity with a DKIM key of its own, an SMTP credential, and a
 * configuration that resolves MX hosts with the bench's DNS server and may deliver to loopback addresses.
 */
export async function startRelaygate(workDir: string, setup: RelaygateSetup): Promise<MtaUnderTest> {
  const dataDir = join(workDir, setup.eventsWebhook ? 'relaygate-events' : 'relaygate');
  mkdirSync(dataDir);
  const account = JSON.parse(await relaygateCli(dataDir, ['account', 'create', '--json'])) as { AccountId: string };
  const accountId = account.AccountId;
  await relaygateCli(dataDir, ['account', 'update', accountId, '--sandbox', 'false', '--max-send-rate', '100000', '--max-24h-send', '100000000']);
  // --verified: the operator vouches for the domain, so no DNS verification round is needed before sending.
  const identity = JSON.parse(await relaygateCli(dataDir, ['identity', 'create', setup.senderDomain, '--account', accountId, '--verified', '--json'])) as {
    DkimSigningEnabled: boolean;
    DkimSelectors: string[];
    DnsRecords: Array<{ Name: string; Type: string; Value: string }>;
  };
  if (setup.eventsWebhook) {
    await relaygateCli(dataDir, ['configset', 'create', 'bench', '--account', accountId, '--event-destination', `webhook:SEND,DELIVERY:${setup.eventsWebhook}`]);
    await relaygateCli(dataDir, ['identity', 'update', setup.senderDomain, '--account', accountId, '--default-configuration-set', 'bench']);
  }
  const credential = JSON.parse(await relaygateCli(dataDir, ['credentials', 'create', '--account', accountId, '--json'])) as {
    SmtpUserName: string;
    SmtpPassword: string;
  };
  const config = {
    // The whole load comes from one address, and --idle-sessions holds a thousand sessions open: no connection limit may cap it.
    smtp: { hostname: 'relaygate.bench.test', maxConnections: 100_000, maxConnectionsPerAddress: 100_000, ...(setup.workers === undefined ? {} : { workers: setup.workers }) },
    dns: { servers: [setup.dnsServer] },
    delivery: { port: setup.mxPort, allowPrivateAddresses: true },
  };
  const gateway = await startGatewayProcess({ dataDir, config, listen: ['127.0.0.1:0=starttls'] });
  const pid = gateway.child.pid as number;
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return {
    name: `relaygate ${version}${setup.workers === undefined ? '' : ` (smtp.workers ${setup.workers})`}${setup.eventsWebhook ? ' + events webhook' : ''}`,
    kind: 'relaygate',
    port: gateway.starttlsPorts[0] as number,
    user: credential.SmtpUserName,
    password: credential.SmtpPassword,
    dkimRecords: identity.DnsRecords.filter((record) => record.Type === 'TXT' && record.Name.includes('._domainkey.')).map((record) => ({ name: record.Name, value: record.Value })),
    notes: [
      identity.DkimSigningEnabled
        ? `DKIM: verified identity ${setup.senderDomain} with key ${identity.DkimSelectors.join(', ')}`
        : `DKIM: verified identity ${setup.senderDomain}, but its DKIM signing is off`,
    ],
    // `relaygate serve` itself; the workers it may fork are its descendants.
    processRoots: () => [pid],
    async stop() {
      const stopped = gateway.stop();
      const timer = setTimeout(() => void gateway.kill(), 15_000);
      await stopped;
      clearTimeout(timer);
    },
  };
}

function relaygateCli(dataDir: string, args: string[]): Promise<string> {
  // A RELAYGATE_CONFIG in the caller's environment must not leak into the bench's private gateway.
  return runChecked(process.execPath, [RELAYGATE_BIN, '--data-dir', dataDir, ...args], { env: { ...process.env, RELAYGATE_CONFIG: '' } });
}
