/**
 * Server CPU per TLS handshake with relaygate's TLS options and session cache: a full handshake that presents the ECDSA P-256
 * certificate, one that presents the RSA-2048 one (a client offering only RSA signature algorithms), and a resumed one
 * (TLS 1.3 ticket). The server runs in this process, the clients in a child process, so the CPU time of this process
 * is the server's alone; handshakes per second per core is 1000 / (CPU ms per handshake).
 *
 *   npm run build && node dist/bench/tls-handshakes.js [--handshakes 2000]
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { loadTlsMaterial, tlsServerOptions } from '../src/smtp/tls-material.js';
import { resumeTlsSessions, TlsSessionCache } from '../src/smtp/tls-session-cache.js';
import { tempDir } from '../test/support/gateway-process.js';

type Kind = 'ecdsa' | 'rsa' | 'resumed';

/** Client side: `count` handshakes one after the other, each closed as soon as it is done. */
async function runClients(port: number, kind: Kind, count: number): Promise<void> {
  const options = { host: '127.0.0.1', port, rejectUnauthorized: false, ...(kind === 'rsa' ? { sigalgs: 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256' } : {}) };
  let session: Buffer | undefined;
  if (kind === 'resumed') {
    const first = connect(options);
    [session] = (await once(first, 'session')) as [Buffer];
    first.destroy();
  }
  for (let done = 0; done < count; done++) {
    const socket = connect({ ...options, session });
    await once(socket, 'secureConnect');
    if (kind === 'resumed' && !socket.isSessionReused()) throw new Error('the session was not resumed');
    const presented = socket.getPeerX509Certificate()?.publicKey.asymmetricKeyType;
    if (kind !== 'resumed' && presented !== (kind === 'rsa' ? 'rsa' : 'ec')) throw new Error(`the ${kind} client got a certificate with an ${presented} key`);
    socket.destroy();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { handshakes: { type: 'string', default: '2000' }, client: { type: 'string' } } });
  const count = Number(values.handshakes);
  if (values.client) {
    const [port, kind] = values.client.split(':');
    await runClients(Number(port), kind as Kind, count);
    return;
  }
  const material = await loadTlsMaterial({ certificate: null, rsaCertificate: null, sni: {}, minVersion: 'TLSv1.2' }, tempDir('relaygate-bench-tls-'), 'localhost', pino({ level: 'silent' }));
  const server = createServer(tlsServerOptions(material), (socket) => socket.on('error', () => undefined));
  server.on('tlsClientError', () => undefined);
  resumeTlsSessions(server, new TlsSessionCache());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  try {
    for (const kind of ['ecdsa', 'rsa', 'resumed'] as const) {
      const started = process.cpuUsage();
      const startedAt = process.hrtime.bigint();
      const client = fork(new URL(import.meta.url).pathname, ['--client', `${port}:${kind}`, '--handshakes', String(count)]);
      const [code] = (await once(client, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`the ${kind} client exited with ${code}`);
      const cpu = process.cpuUsage(started);
      const cpuMs = (cpu.user + cpu.system) / 1000 / count;
      const wallMs = Number(process.hrtime.bigint() - startedAt) / 1e6;
      console.log(`${kind.padEnd(8)} ${count} handshakes: server CPU ${cpuMs.toFixed(3)} ms each (${Math.round(1000 / cpuMs)}/s per core), ${Math.round((count * 1000) / wallMs)}/s wall clock`);
    }
  } finally {
    server.close();
  }
}

await main();
