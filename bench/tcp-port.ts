import { createServer, type AddressInfo } from 'node:net';

/**
 * A TCP port that is free on `host` right now, for programs that cannot listen on port 0 and report the port
 * they got (Postfix). Another process could take it in between; the reference script checks that the port is free.
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
