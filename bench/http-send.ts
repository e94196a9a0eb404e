/**
 * SendRawEmail of 2 KB messages over keep-alive HTTP from 20 clients, against the SMTP path's messages per second on
 * the same gateway (delivery off: this measures acceptance). Short by default, the machine may be shared:
 * `npm run bench:http -- [messages]`.
 */
import { Agent } from 'node:https';
import { Agent as HttpAgent } from 'node:http';
import { performance } from 'node:perf_hooks';
import { SESClient, SendRawEmailCommand } from '@aws-sdk/client-ses';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { startGatewayProcess } from '../test/support/gateway-process.js';
import { provisionCredential } from '../test/support/provision.js';
import { benchMessage } from './bench-message.js';
import { runLoad } from './load-client.js';

const CLIENTS = 20;
const SIZE = 2048;

async function main(): Promise<void> {
  const messages = Number(process.argv[2] ?? 2000);
  const gateway = await startGatewayProcess({ listen: ['127.0.0.1:0=starttls'], config: { smtp: { plaintextNetworks: ['127.0.0.1/32'] } } });
  try {
    const credential = await provisionCredential(gateway.dataDir, { verifiedIdentities: ['bench.test'] });
    const message = benchMessage(SIZE, 'bench.test', 'inbox.test', 'http');

    const smtp = await runLoad({
      targets: [{ host: '127.0.0.1', port: gateway.starttlsPorts[0]!, user: credential.user, password: credential.password, replyTimeoutMs: 30_000 }],
      message,
      messages,
      connections: CLIENTS,
      messagesPerConnection: Infinity,
    });
    const smtpRate = smtp.accepted / ((smtp.lastAcceptedAt - smtp.startedAt) / 1000);

    const client = new SESClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${gateway.httpPorts[0]}`,
      credentials: { accessKeyId: credential.user, secretAccessKey: credential.secretAccessKey },
      requestHandler: new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: CLIENTS }), httpsAgent: new Agent({ keepAlive: true }) }),
    });
    let next = 0;
    let accepted = 0;
    const failures = new Map<string, number>();
    const started = performance.now();
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let index = next++; index < messages; index = next++) {
          const data = Buffer.concat(message.chunks(index)).subarray(0, -3);
          try {
            await client.send(new SendRawEmailCommand({ RawMessage: { Data: data } }));
            accepted++;
          } catch (error) {
            const name = (error as Error).name;
            failures.set(name, (failures.get(name) ?? 0) + 1);
          }
        }
      }),
    );
    const httpRate = accepted / ((performance.now() - started) / 1000);
    console.log(`messages: ${messages} of ${SIZE} bytes, ${CLIENTS} concurrent clients, delivery off`);
    console.log(`SMTP (keep-alive sessions, AUTH PLAIN): ${smtp.accepted} accepted, ${smtpRate.toFixed(0)} msg/s`);
    console.log(`HTTP SendRawEmail (keep-alive, SigV4):  ${accepted} accepted, ${httpRate.toFixed(0)} msg/s (${((httpRate / smtpRate) * 100).toFixed(0)} % of SMTP)`);
    if (failures.size > 0 || smtp.failures.size > 0) console.log('failures:', Object.fromEntries(failures), Object.fromEntries(smtp.failures));
  } finally {
    await gateway.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
