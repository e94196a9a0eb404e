import { connect, createServer, type AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A TCP port that is free on `host` right now, for programs that cannot listen on port 0 and report the port
 * they got (smtp-sink, Postfix, OpenDKIM). Another process could take it in between, so callers check that the
 * program really listens.
 */
export async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Resolves once a TCP connection to host:port succeeds. `stillStarting` is asked between attempts and may throw
 * (for instance when the program that should listen has exited), which ends the wait at once.
 */
export async function waitUntilListening(host: string, port: number, what: string, stillStarting: () => void, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    stillStarting();
    if (await connects(host, port)) return;
    if (Date.now() > deadline) throw new Error(`${what} is not listening on ${host}:${port} after ${timeoutMs} ms`);
    await sleep(50);
  }
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
