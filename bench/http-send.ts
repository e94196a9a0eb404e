/**
 * SendRawEmail of 2 KB messages over keep-alive HTTP from 20 clients, against the SMTP path's messages per second on
 * the same gateway (delivery off: this measures acceptance). Short by default, the machine may be shared:
 * `npm run bench:http -- [messages]`. See bench/README.md.
 */
import { Agent as HttpAgent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startGatewayProcess } from '../test/support/gateway-process.js';
import { provisionCredential } from '../test/support/provision.js';
import { postSigner } from '../test/support/sigv4-presign.js';
import { benchMessage } from './bench-message.js';
import { runLoad } from './load-client.js';
import { treeCpuSeconds } from './process-cpu.js';

const CLIENTS = 20;
const SIZE = 2048;
const REGION = 'us-east-1';

interface Measured {
  accepted: number;
  perSecond: number;
  /** CPU of the gateway's processes (primary and session workers) per accepted message. */
  gatewayCpuMs: number;
  failures: Map<string, number>;
}

/**
 * Runs `send` for `warmUp` messages at once (numbered from `messages` on), then measures it for messages 0 … messages-1 from CLIENTS concurrent
 * clients, each taking the next number when free.
 */
async function measure(gatewayPid: number, messages: number, warmUp: number, send: (index: number) => Promise<void>): Promise<Measured> {
  // Numbers past the measured ones: a request the same as an earlier one within a second is refused as a replay.
  await Promise.all(Array.from({ length: warmUp }, (_, index) => send(messages + index)));
  let next = 0;
  let accepted = 0;
  const failures = new Map<string, number>();
  const cpuBefore = treeCpuSeconds([gatewayPid]);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      for (let index = next++; index < messages; index = next++) {
        try {
          await send(index);
          accepted++;
        } catch (error) {
          const name = (error as Error).name === 'Error' ? (error as Error).message : (error as Error).name;
          failures.set(name, (failures.get(name) ?? 0) + 1);
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return { accepted, perSecond: accepted / seconds, gatewayCpuMs: ((treeCpuSeconds([gatewayPid]) - cpuBefore) * 1000) / Math.max(accepted, 1), failures };
}

/** One POST over the keep-alive agent; resolves on 200, rejects with the status and body otherwise. */
function post(agent: HttpAgent, port: number, headers: Record<string, string>, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers, agent }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => (response.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${response.statusCode}: ${Buffer.concat(chunks).toString().slice(0, 200)}`))));
    });
    sent.on('error', reject);
    sent.end(body);
  });
}

function report(label: string, result: Measured, smtpPerSecond?: number): void {
  const share = smtpPerSecond === undefined ? '' : ` (${((result.perSecond / smtpPerSecond) * 100).toFixed(0)} % of SMTP)`;
  console.log(`${label.padEnd(44)} ${result.accepted} accepted, ${result.perSecond.toFixed(0)} msg/s${share}, gateway CPU ${result.gatewayCpuMs.toFixed(2)} ms/msg`);
  if (result.failures.size > 0) console.log('  failures:', Object.fromEntries(result.failures));
}

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 2000);
  const warmUp = Math.min(CLIENTS * 10, messages);
  const gateway = await startGatewayProcess({ listen: ['127.0.0.1:0=starttls'], config: { smtp: { plaintextNetworks: ['127.0.0.1/32'] } } });
  try {
    const gatewayPid = gateway.child.pid as number;
    const httpPort = gateway.httpPorts[0]!;
    const credential = await provisionCredential(gateway.dataDir, { verifiedIdentities: ['bench.test'] });
    const message = benchMessage(SIZE, 'bench.test', 'inbox.test', 'http');
    const rawMessage = (index: number) => Buffer.concat(message.chunks(index)).subarray(0, -3);
    const keys = { accessKeyId: credential.user, secretAccessKey: credential.secretAccessKey };

    const smtpTarget = { host: '127.0.0.1', port: gateway.starttlsPorts[0]!, user: credential.user, password: credential.password, replyTimeoutMs: 30_000 };
    const smtpRun = (count: number) => runLoad({ targets: [smtpTarget], message, messages: count, connections: CLIENTS, messagesPerConnection: Infinity });
    // Each path is warmed up first (JIT, caches, connections), so the order of the runs does not favour the later ones.
    await smtpRun(warmUp);
    const cpuBefore = treeCpuSeconds([gatewayPid]);
    const smtpLoad = await smtpRun(messages);
    const smtp: Measured = {
      accepted: smtpLoad.accepted,
      perSecond: smtpLoad.accepted / ((smtpLoad.lastAcceptedAt - smtpLoad.startedAt) / 1000),
      gatewayCpuMs: ((treeCpuSeconds([gatewayPid]) - cpuBefore) * 1000) / Math.max(smtpLoad.accepted, 1),
      failures: smtpLoad.failures,
    };

    // The AWS SDK as applications use it: its client does much per request (middleware, signing, XML), on the
    // bench's one thread and the machine's cores the gateway also needs.
    const sdk = new SESClient({
      region: REGION,
      endpoint: `http://127.0.0.1:${httpPort}`,
      credentials: keys,
      requestHandler: new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: CLIENTS }) }),
    });
    const sdkResult = await measure(gatewayPid, messages, warmUp, async (index) => {
      await sdk.send(new SendRawEmailCommand({ RawMessage: { Data: rawMessage(index) } }));
    });
    sdk.destroy();

    // The same requests, signed by the SDK's own signer but sent with node:http: a client as light as the SMTP one,
    // so the figure is the gateway's.
    const agent = new HttpAgent({ keepAlive: true, maxSockets: CLIENTS });
    const sign = postSigner(`http://127.0.0.1:${httpPort}`, keys, REGION);
    const leanResult = await measure(gatewayPid, messages, warmUp, async (index) => {
      const body = new URLSearchParams({ Action: 'SendRawEmail', Version: '2010-12-01', 'RawMessage.Data': rawMessage(index).toString('base64') }).toString();
      const headers = await sign('/', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) }, body);
      await post(agent, httpPort, headers, body);
    });
    agent.destroy();

    console.log(`messages: ${messages} of ${SIZE} bytes per run, ${CLIENTS} concurrent clients, keep-alive, delivery off`);
    report('SMTP (plain, sessions kept, AUTH PLAIN)', smtp);
    report('HTTP SendRawEmail, @aws-sdk/client-ses', sdkResult, smtp.perSecond);
    report('HTTP SendRawEmail, SigV4 over node:http', leanResult, smtp.perSecond);
  } finally {
    await gateway.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
