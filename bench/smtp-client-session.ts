import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface SmtpReply {
  code: number;
  /** Every line of the reply, CRLF removed. */
  lines: string[];
}

export interface SessionTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  /** A reply (or the TLS handshake) taking longer than this fails the session. */
  replyTimeoutMs: number;
}

/** Thrown when the server answers with something other than the reply the dialogue needs. */
export class UnexpectedReply extends Error {
  constructor(
    readonly stage: string,
    readonly reply: SmtpReply,
  ) {
    super(`${stage}: ${reply.lines.join(' | ')}`);
  }
}

/**
 * A lean SMTP client for load generation: replies are parsed as bytes arrive and handed out in order, so
 * pipelined commands are matched with their replies without a per-command round trip.
 */
export class SmtpClientSession {
  private buffer = '';
  private lines: string[] = [];
  private readonly ready: SmtpReply[] = [];
  private readonly waiters: Array<{ resolve: (reply: SmtpReply) => void; reject: (error: Error) => void }> = [];
  private failure: Error | null = null;
  private pipelining = false;

  private constructor(private socket: Socket) {
    this.attach(socket);
  }

  /** Connects, upgrades with STARTTLS (the server's certificate is not checked: it is a local test one) and authenticates with AUTH PLAIN. */
  static async open(target: SessionTarget): Promise<SmtpClientSession> {
    const socket = netConnect({ host: target.host, port: target.port, noDelay: true });
    socket.setTimeout(target.replyTimeoutMs);
    const session = new SmtpClientSession(socket);
    try {
      await session.expect('greeting', 220);
      session.requireCapability(await session.ehlo(), 'STARTTLS');
      session.write('STARTTLS\r\n');
      await session.expect('STARTTLS', 220);
      await session.startTls(target.replyTimeoutMs);
      session.pipelining = hasCapability(await session.ehlo(), 'PIPELINING');
      session.write(`AUTH PLAIN ${Buffer.from(`\0${target.user}\0${target.password}`).toString('base64')}\r\n`);
      await session.expect('AUTH', 235);
      return session;
    } catch (error) {
      session.destroy();
      throw error;
    }
  }

  /** Connects and says EHLO, without TLS or AUTH: an MTA returning a bounce to an intake listener. */
  static async openPlain(target: Pick<SessionTarget, 'host' | 'port' | 'replyTimeoutMs'>): Promise<SmtpClientSession> {
    const socket = netConnect({ host: target.host, port: target.port, noDelay: true });
    socket.setTimeout(target.replyTimeoutMs);
    const session = new SmtpClientSession(socket);
    try {
      await session.expect('greeting', 220);
      session.pipelining = hasCapability(await session.ehlo(), 'PIPELINING');
      return session;
    } catch (error) {
      session.destroy();
      throw error;
    }
  }

  /** Sends the commands, all at once when the server announced PIPELINING, and returns their replies in order. */
  async commands(lines: readonly string[]): Promise<SmtpReply[]> {
    if (this.pipelining) {
      this.write(lines.join(''));
      return Promise.all(lines.map(() => this.reply()));
    }
    const replies: SmtpReply[] = [];
    for (const line of lines) {
      this.write(line);
      replies.push(await this.reply());
    }
    return replies;
  }

  /** Writes the chunks as one batch: with TLS, each write would otherwise become its own record. */
  writeAll(chunks: readonly Buffer[]): void {
    this.socket.cork();
    for (const chunk of chunks) this.socket.write(chunk);
    this.socket.uncork();
  }

  reply(): Promise<SmtpReply> {
    const next = this.ready.shift();
    if (next) return Promise.resolve(next);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async expect(stage: string, code: number): Promise<SmtpReply> {
    const reply = await this.reply();
    if (reply.code !== code) throw new UnexpectedReply(stage, reply);
    return reply;
  }

  async quit(): Promise<void> {
    this.write('QUIT\r\n');
    await this.expect('QUIT', 221);
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private write(text: string): void {
    this.socket.write(text, 'latin1');
  }

  private async ehlo(): Promise<SmtpReply> {
    this.write('EHLO bench-client.relaygate.test\r\n');
    return this.expect('EHLO', 250);
  }

  private requireCapability(ehlo: SmtpReply, capability: string): void {
    if (!hasCapability(ehlo, capability)) throw new UnexpectedReply(`EHLO without ${capability}`, ehlo);
  }

  private async startTls(timeoutMs: number): Promise<void> {
    this.socket.removeAllListeners('data');
    const secure = tlsConnect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', () => resolve());
      secure.once('error', reject);
      this.socket.once('close', () => reject(new Error('connection closed during the TLS handshake')));
    });
    // The TLS socket reads the TCP handle directly, so the plain socket would see no activity and time out.
    this.socket.setTimeout(0);
    secure.setTimeout(timeoutMs);
    this.socket = secure;
    this.attach(secure);
  }

  private attach(socket: Socket): void {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('timeout', () => this.fail(new Error('no reply within the reply timeout')));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    let end: number;
    while ((end = this.buffer.indexOf('\r\n', start)) !== -1) {
      const line = this.buffer.slice(start, end);
      start = end + 2;
      this.lines.push(line);
      // "250-" continues a multi-line reply; "250 " (or a bare "250") ends it.
      if (line.length >= 3 && line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)), lines: this.lines };
        this.lines = [];
        const waiter = this.waiters.shift();
        if (waiter) waiter.resolve(reply);
        else this.ready.push(reply);
      }
    }
    this.buffer = this.buffer.slice(start);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiters.splice(0)) waiter.reject(this.failure);
    this.socket.destroy();
  }
}

function hasCapability(ehlo: SmtpReply, capability: string): boolean {
  return ehlo.lines.some((line, index) => index > 0 && line.slice(4).toUpperCase().split(' ')[0] === capability);
}
