import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';

/** A listener that never accepts, run in a child process stopped with SIGSTOP. */
const LISTENER = `
const server = require('node:net').createServer();
server.listen({ host: process.argv[1], port: Number(process.argv[2]), backlog: 1 }, () => process.send('listening'));
`;
const CONNECT_WAIT_MS = 300;
/** The accept queue of a backlog of 1 holds two connections; more than this means SYNs are not being dropped. */
const MAX_QUEUED = 16;

export interface UnansweredAddress {
  close(): Promise<void>;
}

/**
 * Makes host:port an address whose connections are never answered, as when a firewall drops the packets: a listening
 * socket whose process is stopped, with its accept queue filled. Linux then drops the SYNs of further connections, so a
 * client's connect neither succeeds nor fails until it gives up.
 */
export async function unansweredAddress(host: string, port: number): Promise<UnansweredAddress> {
  const child: ChildProcess = spawn(process.execPath, ['-e', LISTENER, host, String(port)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const held: Socket[] = [];
  const close = async () => {
    for (const socket of held) socket.destroy();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  };
  try {
    await once(child, 'message');
    process.kill(child.pid!, 'SIGSTOP');
    // Connections the kernel completes wait in the queue; the first that does not complete shows it is full.
    for (;;) {
      if (held.length >= MAX_QUEUED) throw new Error(`${host}:${port} still accepts connections after ${MAX_QUEUED}: this kernel does not drop them`);
      const socket = connect(port, host);
      socket.on('error', () => undefined);
      held.push(socket);
      const connected = await Promise.race([once(socket, 'connect').then(() => true), new Promise<boolean>((resolve) => setTimeout(resolve, CONNECT_WAIT_MS, false))]);
      if (!connected) break;
    }
  } catch (error) {
    await close();
    throw error;
  }
  return { close };
}
