import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { createTestCertificate } from './test-certificate.js';

/**
 * How the sink answers one RCPT TO or the end of DATA: 'accept'; an exact reply such as '451 4.7.1 Try again later'
 * (a 2xx reply to DATA sends its text, smtp-server always answers DATA with code 250); 'disconnect' drops the
 * connection without a reply; `delayMs` waits before answering with `then` (default 'accept').
 */
export type SinkReply = 'accept' | 'disconnect' | `${number} ${string}` | { delayMs: number; then?: SinkReply };

interface SinkContextBase {
  mailFrom: string;
  remoteAddress: string;
  secure: boolean;
  /** Index into `connections.perConnectionMessageCounts`. */
  connectionIndex: number;
}

export type SinkContext =
  | (SinkContextBase & { stage: 'RCPT'; recipient: string; /** accepted so far */ rcptTo: string[] })
  | (SinkContextBase & { stage: 'DATA'; rcptTo: string[]; raw: Buffer });

export type SinkBehaviour = (ctx: SinkContext) => SinkReply | Promise<SinkReply>;

export interface SinkMxOptions {
  /** Any 127.0.0.x works on Linux without configuration. */
  host: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Offer STARTTLS with a self-signed certificate (default true). */
  starttls?: boolean;
  /** Offer STARTTLS but speak only TLS 1.0, which current clients refuse: every handshake fails (an old MX). */
  brokenTls?: boolean;
  /** Offer 8BITMIME (default true); false stands for an MX that takes 7-bit data only (RFC 6152). */
  eightBitMime?: boolean;
  /** Names the certificate is valid for besides `host` (default ['localhost']), e.g. the MX host name. */
  tlsNames?: string[];
  behaviour?: SinkBehaviour;
  /** Beyond this many connections the sink answers 421 and hangs up. */
  maxConnections?: number;
}

export interface ReceivedMessage {
  mailFrom: string;
  rcptTo: string[];
  /** The message as received, after dot-unstuffing. */
  raw: Buffer;
  remoteAddress: string;
  /** Whether the transaction ran over TLS (STARTTLS). */
  secure: boolean;
  /** SNI name the client asked for, if any. */
  servername: string | null;
  connectionIndex: number;
  /** Date.now() when the end of the message arrived (before any reply delay). */
  receivedAt: number;
}

export interface SinkConnectionStats {
  /** TCP connections accepted so far, including those turned away by maxConnections. */
  opened: number;
  current: number;
  maxConcurrent: number;
  /** Accepted messages per connection, in the order the connections were opened. */
  perConnectionMessageCounts: number[];
}

export interface SinkMx {
  host: string;
  port: number;
  /** The certificate's PEM when STARTTLS is offered (trust it with `tls: { ca }`), otherwise null. */
  certificate: string | null;
  /** Accepted messages, in arrival order. */
  messages: ReceivedMessage[];
  connections: SinkConnectionStats;
  /** Resolves with all messages once at least `count` have arrived. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMessage[]>;
  setBehaviour(behaviour: SinkBehaviour): void;
  close(): Promise<void>;
}

const acceptAll: SinkBehaviour = () => 'accept';
/** smtp-server waits this long for clients to quit on close() before it sends 421 and hangs up. */
const CLOSE_GRACE_MS = 200;

/** A recording SMTP server standing in for a remote MX in delivery tests. */
export async function startSinkMx(options: SinkMxOptions): Promise<SinkMx> {
  const starttls = options.starttls ?? true;
  const certificate = starttls ? await createTestCertificate([options.host, ...(options.tlsNames ?? ['localhost'])]) : null;
  let behaviour = options.behaviour ?? acceptAll;
  const messages: ReceivedMessage[] = [];
  const connections: SinkConnectionStats = { opened: 0, current: 0, maxConcurrent: 0, perConnectionMessageCounts: [] };
  const sockets = new Map<string, { socket: Socket; index: number; closed: () => void }>();
  const waiters = new Set<() => void>();

  const connectionOf = (session: SMTPServerSession) => {
    const connection = sockets.get(socketKey(session.remoteAddress, session.remotePort));
    if (!connection) throw new Error(`sink-mx: no socket recorded for ${session.remoteAddress}:${session.remotePort}`);
    return connection;
  };
  const contextBase = (session: SMTPServerSession): SinkContextBase => ({
    mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
    remoteAddress: session.remoteAddress,
    secure: session.secure,
    connectionIndex: connectionOf(session).index,
  });
  /** Carries out `reply`: resolves with the code and text to answer, or null after dropping the connection. */
  const settle = async (reply: SinkReply, session: SMTPServerSession): Promise<{ code: number; text: string } | null> => {
    if (typeof reply === 'object') {
      await sleep(reply.delayMs);
      return settle(reply.then ?? 'accept', session);
    }
    if (reply === 'disconnect') {
      connectionOf(session).socket.destroy();
      return null;
    }
    if (reply === 'accept') return { code: 250, text: 'OK' };
    const match = /^(\d{3}) (.*)$/s.exec(reply);
    if (!match) throw new Error(`sink-mx: malformed reply ${JSON.stringify(reply)}`);
    return { code: Number(match[1]), text: match[2] ?? '' };
  };

  const server = new SMTPServer({
    ...(certificate ?? {}),
    ...(options.brokenTls ? { minVersion: 'TLSv1', maxVersion: 'TLSv1' } : {}),
    name: 'sink-mx.test',
    disabledCommands: starttls ? [] : ['STARTTLS'],
    hide8BITMIME: options.eightBitMime === false,
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    maxClients: options.maxConnections,
    closeTimeout: CLOSE_GRACE_MS,
    onSecure(socket, session, callback) {
      // After STARTTLS the TLS socket owns the connection: the plain one never reports its close.
      socket.once('end', connectionOf(session).closed);
      socket.once('close', connectionOf(session).closed);
      callback();
    },
    onRcptTo(address, session, callback) {
      const ctx: SinkContext = {
        ...contextBase(session),
        stage: 'RCPT',
        recipient: address.address,
        rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
      };
      Promise.resolve()
        .then(() => behaviour(ctx))
        .then((reply) => settle(reply, session))
        .then((reply) => {
          if (reply) callback(reply.code < 400 ? null : replyError(reply));
        }, callback);
    },
    onData(stream, session, callback) {
      const base = contextBase(session);
      const rcptTo = session.envelope.rcptTo.map((rcpt) => rcpt.address);
      const servername = session.servername || null;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.once('end', () => {
        const receivedAt = Date.now();
        const raw = Buffer.concat(chunks);
        Promise.resolve()
          .then(() => behaviour({ ...base, stage: 'DATA', rcptTo, raw }))
          .then((reply) => settle(reply, session))
          .then((reply) => {
            if (!reply) return;
            if (reply.code >= 400) return callback(replyError(reply));
            messages.push({ ...base, rcptTo, raw, servername, receivedAt });
            connections.perConnectionMessageCounts[base.connectionIndex]! += 1;
            for (const waiter of waiters) waiter();
            callback(null, reply.text);
          }, callback);
      });
    },
  });
  // Client-side resets surface as server errors; unheard, they would crash the test process.
  server.on('error', () => undefined);
  server.server.on('connection', (socket: Socket) => {
    const index = connections.opened++;
    connections.perConnectionMessageCounts.push(0);
    connections.current++;
    connections.maxConcurrent = Math.max(connections.maxConcurrent, connections.current);
    const key = socketKey(socket.remoteAddress ?? '', socket.remotePort ?? 0);
    let open = true;
    const closed = () => {
      if (!open) return;
      open = false;
      connections.current--;
    };
    sockets.set(key, { socket, index, closed });
    // The entry stays: smtp-server may still be handling a command of a connection that has just closed.
    // A connection counts as gone when the client has closed its side (FIN), not only when Node has finished tearing
    // the socket down: that comes a turn of the event loop later and would overlap the client's next connection.
    socket.once('end', closed);
    socket.once('close', closed);
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.server.off('error', reject);
      resolve((server.server.address() as AddressInfo).port);
    });
  });

  return {
    host: options.host,
    port,
    certificate: certificate?.cert ?? null,
    messages,
    connections,
    waitForMessages(count, timeoutMs = 5000) {
      if (messages.length >= count) return Promise.resolve([...messages]);
      return new Promise((resolve, reject) => {
        const waiter = () => {
          if (messages.length < count) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve([...messages]);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`sink-mx ${options.host}:${port} got ${messages.length} of ${count} messages in ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    setBehaviour(next) {
      behaviour = next;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function socketKey(address: string, port: number): string {
  return `${address}:${port}`;
}

function replyError(reply: { code: number; text: string }): Error {
  return Object.assign(new Error(reply.text), { responseCode: reply.code });
}
