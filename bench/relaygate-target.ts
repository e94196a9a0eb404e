import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { urlWithoutPassword } from '../src/common/url-without-password.js';
import { RELAYGATE_BIN, REPO_ROOT, startGatewayProcess, type GatewayProcess } from '../test/support/gateway-process.js';
import type { ClusterStore } from '../test/support/provision.js';
import type { DnsTxtRecord, MtaUnderTest } from './mta-under-test.js';
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

/** What the CLI set up, and what a client and the DNS need to send through it. */
interface Provisioned {
  user: string;
  password: string;
  dkimRecords: DnsTxtRecord[];
  notes: string[];
}

/** Nodes sharing one control plane in Redis, started one at a time. */
export interface RelaygateCluster {
  /** The identity's DKIM public keys, made when the CLI created it, to publish in DNS. */
  dkimRecords: DnsTxtRecord[];
  /** Starts nodes until `nodes` run; the fleet of all of them. */
  grow(nodes: number): Promise<MtaUnderTest>;
  /** Stops every node; idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `relaygate serve` as an operator would set it up with the CLI: an account out of the sandbox with limits far
 * above the workload, the sender domain as a verified identity with a DKIM key of its own, an SMTP credential, and a
 * configuration that resolves MX hosts with the bench's DNS server and may deliver to loopback addresses.
 */
export async function startRelaygate(workDir: string, setup: RelaygateSetup): Promise<MtaUnderTest> {
  const dataDir = join(workDir, setup.eventsWebhook ? 'relaygate-events' : 'relaygate');
  mkdirSync(dataDir);
  const provisioned = await provision(['--data-dir', dataDir], setup);
  const node = await startNode(dataDir, setup, null);
  return underTest(setup, null, provisioned, [node], () => stopNode(node));
}

/**
 * The same set-up in cluster mode: the CLI provisions the control plane in Redis (`--redis URL`, with the key prefix
 * and the shared secret key file in its configuration), and each node is a `relaygate serve` with a data directory
 * (queue and spool) of its own and `cluster: { redisUrl, keyPrefix }`, `http.secretKeyFile` the shared file.
 */
export async function startRelaygateCluster(workDir: string, setup: RelaygateSetup, store: ClusterStore): Promise<RelaygateCluster> {
  const cliDir = join(workDir, 'relaygate-cli');
  mkdirSync(cliDir);
  const cliConfig = join(cliDir, 'relaygate.yaml');
  writeFileSync(cliConfig, stringify({ cluster: { keyPrefix: store.keyPrefix }, http: { secretKeyFile: store.secretKeyFile } }));
  const provisioned = await provision(['--data-dir', cliDir, '--config', cliConfig, '--redis', store.redisUrl], setup);
  const nodes: GatewayProcess[] = [];
  const stop = async () => {
    await Promise.all(nodes.map((node) => stopNode(node)));
  };
  return {
    dkimRecords: provisioned.dkimRecords,
    async grow(count) {
      while (nodes.length < count) {
        const dataDir = join(workDir, `relaygate-node-${nodes.length + 1}`);
        mkdirSync(dataDir);
        nodes.push(await startNode(dataDir, setup, store));
      }
      return underTest(setup, store, provisioned, nodes.slice(0, count), stop);
    },
    stop,
  };
}

/** The account, identity (with its DKIM key), configuration set for events, and credential, made with relaygate's CLI. */
async function provision(globalArgs: string[], setup: RelaygateSetup): Promise<Provisioned> {
  const cli = (args: string[]) => relaygateCli([...globalArgs, ...args]);
  const account = JSON.parse(await cli(['account', 'create', '--json'])) as { AccountId: string };
  const accountId = account.AccountId;
  await cli(['account', 'update', accountId, '--sandbox', 'false', '--max-send-rate', '100000', '--max-24h-send', '100000000']);
  // --verified: the operator vouches for the domain, so no DNS verification round is needed before sending.
  const identity = JSON.parse(await cli(['identity', 'create', setup.senderDomain, '--account', accountId, '--verified', '--json'])) as {
    DkimSigningEnabled: boolean;
    DkimSelectors: string[];
    DnsRecords: Array<{ Name: string; Type: string; Value: string }>;
  };
  if (setup.eventsWebhook) {
    await cli(['configset', 'create', 'bench', '--account', accountId, '--event-destination', `webhook:SEND,DELIVERY:${setup.eventsWebhook}`]);
    await cli(['identity', 'update', setup.senderDomain, '--account', accountId, '--default-configuration-set', 'bench']);
  }
  const credential = JSON.parse(await cli(['credentials', 'create', '--account', accountId, '--json'])) as {
    SmtpUserName: string;
    SmtpPassword: string;
  };
  return {
    user: credential.SmtpUserName,
    password: credential.SmtpPassword,
    dkimRecords: identity.DnsRecords.filter((record) => record.Type === 'TXT' && record.Name.includes('._domainkey.')).map((record) => ({ name: record.Name, value: record.Value })),
    notes: [
      identity.DkimSigningEnabled
        ? `DKIM: verified identity ${setup.senderDomain} with key ${identity.DkimSelectors.join(', ')}`
        : `DKIM: verified identity ${setup.senderDomain}, but its DKIM signing is off`,
    ],
  };
}

function startNode(dataDir: string, setup: RelaygateSetup, store: ClusterStore | null): Promise<GatewayProcess> {
  const config = {
    // The whole load comes from one address, and --idle-sessions holds a thousand sessions open: no connection limit may cap it.
    smtp: { hostname: 'relaygate.bench.test', maxConnections: 100_000, maxConnectionsPerAddress: 100_000, ...(setup.workers === undefined ? {} : { workers: setup.workers }) },
    dns: { servers: [setup.dnsServer] },
    delivery: { port: setup.mxPort, allowPrivateAddresses: true },
    ...(store && { cluster: { redisUrl: store.redisUrl, keyPrefix: store.keyPrefix }, http: { secretKeyFile: store.secretKeyFile } }),
  };
  return startGatewayProcess({ dataDir, config, listen: ['127.0.0.1:0=starttls'], keepLog: startupOrError });
}

/** The lines the bench reads: the two that say the gateway listens (and where), and errors (pino's levels 50 and 60). */
const startupOrError = (line: string) => /"level":[56]0\b|"msg":"(relaygate|http api) listening"/.test(line);

async function stopNode(node: GatewayProcess): Promise<void> {
  const stopped = node.stop();
  const timer = setTimeout(() => void node.kill(), 15_000);
  await stopped;
  clearTimeout(timer);
}

/** The nodes as one MTA to send through; `stop` is the MTA's (for a cluster: every node it started). */
function underTest(setup: RelaygateSetup, store: ClusterStore | null, provisioned: Provisioned, nodes: GatewayProcess[], stop: () => Promise<void>): MtaUnderTest {
  const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const fleet = store ? `, cluster of ${nodes.length} node${nodes.length === 1 ? '' : 's'}` : '';
  return {
    name: `relaygate ${version}${fleet}${setup.workers === undefined ? '' : ` (smtp.workers ${setup.workers})`}${setup.eventsWebhook ? ' + events webhook' : ''}`,
    kind: 'relaygate',
    ports: nodes.map((node) => node.starttlsPorts[0] as number),
    user: provisioned.user,
    password: provisioned.password,
    dkimRecords: provisioned.dkimRecords,
    metricsPorts: nodes.flatMap((node) => (node.metricsPort === null ? [] : [node.metricsPort])),
    notes: [...provisioned.notes, ...(store ? [`control plane, send limits and shaping in Redis ${urlWithoutPassword(store.redisUrl)} under "${store.keyPrefix}"`] : [])],
    // Each `relaygate serve`; the session workers it may fork are its descendants.
    processRoots: () => nodes.map((node) => node.child.pid as number),
    stop,
  };
}

function relaygateCli(args: string[]): Promise<string> {
  // A RELAYGATE_CONFIG in the caller's environment must not leak into the bench's private gateway.
  return runChecked(process.execPath, [RELAYGATE_BIN, ...args], { env: { ...process.env, RELAYGATE_CONFIG: '' } });
}
