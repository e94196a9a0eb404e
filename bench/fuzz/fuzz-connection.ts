import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Prng } from '../prng.js';
import { ReplyReader, type ServerReply } from './reply-reader.js';

/** What a session found wrong with the server. */
export interface Finding {
  kind: 'malformed' | 'hang' | 'desync';
  problem: string;
  /** The offending bytes (latin1, shortened). */
  excerpt?: string;
}

export interface ConnectOptions {
  port: number;
  /** TLS from the first byte. */
  tls: boolean;
  /** How long the server may keep an open connection waiting for a reply, a handshake or the close it announced. */
  deadlineMs: number;
  onFinding: (finding: Finding) => void;
  /** Receives the dialogue, for replaying one session. */
  trace?: (line: string) => void;
}

/** Writes larger than this go out in pieces, each waiting for the socket to drain, so a server that stops reading is seen. */
const WRITE_PIECE = 64 * 1024;
const EXCERPT = 120;

export function excerpt(text: string): string {
  const shown = text.length > EXCERPT ? `${text.slice(0, EXCERPT)}…(${text.length} bytes)` : text;
  return JSON.stringify(shown);
}

/**
 * One client connection of the fuzzer. The session says how many replies each write owes (one per line the server
 * reads as a command); the connection counts the replies as they arrive, checks their syntax, and reports a hang
 * when the server keeps an open connection without answering what it owes for longer than the deadline.
 */
export class FuzzConnection {
  private socket: Socket;
  private readonly reader: ReplyReader;
  private readonly arrived: ServerReply[] = [];
  /** Replies owed by the server and not yet taken by the session. */
  private owed = 0;
  private wake: (() => void) | null = null;
  private readonly closeWaiters = new Set<() => void>();
  private closeAnnounced = false;
  /** Set when the session cannot tell in advance how many replies it is owed: extra replies wait for owe() then. */
  private untracked = false;
  /** Replies beyond those owed that the session may yet be owed (see send()), and those of them that came. */
  private provisional = 0;
  private readonly held: ServerReply[] = [];
  closed = false;
  /** Lines (LF-terminated) written so far. */
  linesSent = 0;
  bytesSent = 0;

  private constructor(
    socket: Socket,
    private readonly options: ConnectOptions,
  ) {
    this.socket = socket;
    this.reader = new ReplyReader(
      (reply) => this.onReply(reply),
      (problem, text) => options.onFinding({ kind: 'malformed', problem, excerpt: excerpt(text) }),
    );
    this.attach(socket);
  }

  /** Opens the connection; for TLS, completes the handshake. Null when the server closed it first. */
  static async open(options: ConnectOptions): Promise<FuzzConnection | null> {
    const socket = netConnect({ host: '127.0.0.1', port: options.port, noDelay: true });
    const connection = new FuzzConnection(socket, options);
    // The greeting (after the handshake on an implicit-TLS port).
    connection.owed = 1;
    const connected = await connection.until((done) => socket.once('connect', () => done(true)), 'TCP connect');
    if (!connected) return null;
    if (options.tls && !(await connection.startTls())) return null;
    return connection;
  }

  /**
   * Writes `data`; the server owes `replies` replies for it. `split` cuts it into randomly sized pieces sent on
   * separate turns. `provisional` more replies are owed or not depending on a reply still to come (a line pipelined
   * after STARTTLS is answered only if STARTTLS is refused): they are kept until owe() or disown() says which.
   */
  async send(data: Buffer | string, replies: number, split?: Prng, provisional = 0): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
    this.options.trace?.(`C: ${excerpt(bytes.toString('latin1'))}${replies === 1 ? '' : ` (${replies} replies due)`}`);
    this.owed += replies;
    this.provisional += provisional;
    this.bytesSent += bytes.length;
    for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) this.linesSent++;
    if (split && bytes.length > 1) {
      for (let start = 0; start < bytes.length && !this.closed; ) {
        const end = Math.min(bytes.length, start + split.between(1, Math.max(1, Math.ceil(bytes.length / 3))));
        await this.write(bytes.subarray(start, end));
        start = end;
        await new Promise((resolve) => setImmediate(resolve));
      }
      return;
    }
    for (let start = 0; start < bytes.length && !this.closed; start += WRITE_PIECE) await this.write(bytes.subarray(start, start + WRITE_PIECE));
  }

  /**
   * Waits for every reply owed so far and returns them; fewer when the server closes the connection first. A reply
   * that is late beyond the deadline while the connection stays open is a hang.
   */
  async replies(): Promise<ServerReply[]> {
    while (this.arrived.length < this.owed && !this.closed) {
      const got = await this.until((done) => (this.wake = () => done(true)), `reply ${this.arrived.length + 1} of ${this.owed}`);
      this.wake = null;
      if (!got) break;
    }
    const taken = this.arrived.splice(0, this.owed);
    this.owed = 0;
    return taken;
  }

  /** The server owes `count` more replies for what was sent already (the message after a pipelined DATA got 354). */
  owe(count: number): void {
    this.owed += count;
    this.provisional = Math.max(0, this.provisional - count);
    this.arrived.push(...this.held.splice(0, count));
  }

  /** The provisional replies are not owed after all: any that came, or come later, answered no command. */
  disown(): void {
    this.provisional = 0;
    for (const reply of this.held.splice(0)) this.unsolicited(reply);
  }

  /** From now on replies beyond those owed are kept for a later owe() instead of counting as unsolicited. */
  stopCounting(): void {
    this.untracked = true;
  }

  /** The last of the owed replies, or null when the connection closed before it. */
  async reply(): Promise<ServerReply | null> {
    const all = await this.replies();
    return all[all.length - 1] ?? null;
  }

  /** After 220 to STARTTLS (or at once on an implicit-TLS port): the handshake. False when the server closed the connection. */
  async startTls(): Promise<boolean> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure: TLSSocket = tlsConnect({ socket: plain, rejectUnauthorized: false });
    this.socket = secure;
    this.attach(secure);
    return this.until((done) => secure.once('secureConnect', () => done(true)), 'TLS handshake');
  }

  /** Starts a TLS handshake and cuts the connection after `delayMs`, in whatever state the handshake then is. */
  async abandonTlsHandshake(delayMs: number): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain, rejectUnauthorized: false });
    secure.on('error', () => undefined);
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    secure.destroy();
    plain.destroy();
  }

  /** The server speaks TLS from now on (a handshake the client does not follow): its bytes are no longer replies. */
  stopReading(): void {
    this.socket.removeAllListeners('data');
  }

  /** Closes our side and waits for the server to close its side (it must, after QUIT, a 421, or our FIN). */
  async closeGracefully(): Promise<void> {
    if (!this.closed) this.socket.end();
    await this.serverClose('the server did not close the connection after the client closed its side');
  }

  /** After QUIT or a 421 the server closes the connection. */
  async serverClose(problem = 'the server announced the end of the session but kept the connection open'): Promise<void> {
    await this.until(() => undefined, problem, true);
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Whether the server has sent a reply after which it closes (421). */
  get closing(): boolean {
    return this.closeAnnounced;
  }

  private onReply(reply: ServerReply): void {
    this.options.trace?.(`S: ${reply.lines.join('\n   ')}`);
    if (reply.code === 421) this.closeAnnounced = true;
    if (this.arrived.length >= this.owed) {
      // RFC 5321 3.8: a server may send 421 at any moment; any other reply nobody asked for means the server and the
      // client no longer agree where commands begin.
      if (reply.code === 421) return;
      if (this.held.length < this.provisional) {
        this.held.push(reply);
        return;
      }
      if (!this.untracked) return this.unsolicited(reply);
    }
    this.arrived.push(reply);
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  private unsolicited(reply: ServerReply): void {
    this.options.onFinding({ kind: 'desync', problem: 'reply to no command', excerpt: excerpt(reply.lines.join('\n')) });
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => this.reader.push(chunk));
    socket.on('error', () => undefined);
    socket.once('close', () => {
      if (this.closed) return;
      this.closed = true;
      this.reader.end();
      for (const waiter of [...this.closeWaiters]) waiter();
    });
  }

  private async write(piece: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return;
    if (this.socket.write(piece)) return;
    const socket = this.socket;
    let onDrain = () => undefined as void;
    await this.until((done) => socket.once('drain', (onDrain = () => done(true))), 'the server stopped reading');
    socket.off('drain', onDrain);
  }

  /**
   * Runs `start(done)` and resolves with what it reports; past the deadline with the connection still open, the
   * server is hanging: reported, and the connection is cut so the session ends. Resolves false in that case, and
   * when the connection closed first (`whenClosed`).
   */
  private until(start: (done: (value: boolean) => void) => void, waitingFor: string, whenClosed = false): Promise<boolean> {
    if (this.closed) return Promise.resolve(whenClosed);
    return new Promise((resolve) => {
      let settled = false;
      const onClose = () => done(whenClosed);
      const done = (value: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.closeWaiters.delete(onClose);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.options.onFinding({ kind: 'hang', problem: `nothing within ${this.options.deadlineMs} ms: ${waitingFor}` });
        this.destroy();
        done(false);
      }, this.options.deadlineMs);
      this.closeWaiters.add(onClose);
      start(done);
    });
  }
}
