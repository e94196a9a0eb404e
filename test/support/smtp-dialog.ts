import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';

export interface DialogOptions {
  port: number;
  host?: string;
  /** Implicit TLS from the first byte (ports 465/2465). */
  tls?: boolean;
  /** Source address, to appear as another client (e.g. 127.0.0.2). */
  localAddress?: string;
  /** SNI name to ask for (on connect for implicit TLS, at STARTTLS otherwise). */
  servername?: string;
  maxTlsVersion?: 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';
}

/** Bound on a TCP connect or a TLS handshake, so a test against a server that never answers fails instead of hanging. */
const CONNECT_TIMEOUT_MS = 10_000;

/** Resolves on `event`, rejects on an error, on a close before it, or after CONNECT_TIMEOUT_MS. */
function connected(socket: Socket | TLSSocket, event: 'connect' | 'secureConnect', what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`${what} did not complete within ${CONNECT_TIMEOUT_MS} ms`));
    }, CONNECT_TIMEOUT_MS);
    const settle = (error?: Error) => {
      clearTimeout(timer);
      if (error) reject(error);
      else resolve();
    };
    socket.once(event, () => settle());
    socket.once('error', settle);
    socket.once('close', () => settle(new Error(`connection closed before the ${what} completed`)));
  });
}

const tlsClientOptions = (options: DialogOptions): ConnectionOptions => ({
  rejectUnauthorized: false,
  servername: options.servername,
  maxVersion: options.maxTlsVersion,
});

/**
 * A raw SMTP client for asserting exact reply lines: every reply is returned as its lines, as the
 * server wrote them (CRLF removed).
 */
export class SmtpDialog {
  private buffer = '';
  private replies: string[][] = [];
  private current: string[] = [];
  private waiters: Array<(reply: string[]) => void> = [];
  private closedWaiters: Array<() => void> = [];
  closed = false;

  private constructor(
    private socket: Socket | TLSSocket,
    private readonly options: DialogOptions,
  ) {
    this.attach(socket);
  }

  static async open(options: DialogOptions): Promise<SmtpDialog> {
    const host = options.host ?? '127.0.0.1';
    const socket = options.tls
      ? tlsConnect({ host, port: options.port, localAddress: options.localAddress, ...tlsClientOptions(options) } as ConnectionOptions)
      : netConnect({ host, port: options.port, localAddress: options.localAddress });
    await connected(socket, options.tls ? 'secureConnect' : 'connect', options.tls ? 'TLS handshake' : 'TCP connect');
    return new SmtpDialog(socket, options);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      for (const waiter of this.closedWaiters.splice(0)) waiter();
    });
    socket.on('error', () => undefined);
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\r\n')) !== -1) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.current.push(line);
      if (/^\d{3}(?: |$)/.test(line)) {
        const reply = this.current;
        this.current = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    }
  }

  /** The next complete reply (its lines). */
  reply(timeoutMs = 5000): Promise<string[]> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no SMTP reply within ${timeoutMs} ms (closed: ${this.closed})`)), timeoutMs);
      this.waiters.push((reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
    });
  }

  /** The next reply's last line, e.g. `250 Ok 0100…`. */
  async line(timeoutMs?: number): Promise<string> {
    const reply = await this.reply(timeoutMs);
    return reply[reply.length - 1] as string;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends one command line and returns the last line of its reply. */
  async command(line: string): Promise<string> {
    this.write(`${line}\r\n`);
    return this.line();
  }

  async ehlo(name = 'client.example.com'): Promise<string[]> {
    this.write(`EHLO ${name}\r\n`);
    return this.reply();
  }

  /** STARTTLS and the TLS handshake; the caller sends EHLO again. */
  async startTls(): Promise<string> {
    const answer = await this.command('STARTTLS');
    if (!answer.startsWith('220')) return answer;
    this.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: this.socket, ...tlsClientOptions(this.options) });
    await connected(secure, 'secureConnect', 'TLS handshake');
    this.socket = secure;
    this.attach(secure);
    return answer;
  }

  async authPlain(user: string, password: string): Promise<string> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`);
  }

  get tlsProtocol(): string | null {
    return 'getProtocol' in this.socket ? this.socket.getProtocol() : null;
  }

  get peerCertificateFingerprint(): string | null {
    return 'getPeerCertificate' in this.socket ? this.socket.getPeerCertificate().fingerprint256 : null;
  }

  waitClosed(timeoutMs = 5000): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.closedWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
