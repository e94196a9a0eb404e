import { connect as netConnect } from 'node:net';
import { auth, countLines, ehlo, junk, line, longLine, mailFrom, mayChangeMode, otherCommand, rcptTo, terminator, type FuzzAddresses } from './fuzz-commands.js';
import { FuzzConnection, type Finding } from './fuzz-connection.js';
import { dataTransfer, messageContent } from './fuzz-content.js';
import { Prng } from '../prng.js';
import type { ServerReply } from './reply-reader.js';

export interface SessionTarget {
  starttlsPort: number;
  tlsPort: number;
  addresses: FuzzAddresses;
  /** How long the gateway may keep an open connection waiting (for a reply, a handshake, a close). */
  deadlineMs: number;
}

export interface SessionReport {
  seed: number;
  lines: number;
  bytes: number;
  /** Messages the gateway answered with 250 after the end of data. */
  accepted: number;
  /** Of those, messages with at least one recipient at the sink's domain: each should reach the sink once. */
  acceptedForSink: number;
  findings: Finding[];
}

/**
 * One fuzzing session, decided by its seed and by the gateway's replies: a mix of valid and malformed commands,
 * STARTTLS or implicit TLS, AUTH, transactions with odd addresses and odd content, pipelined bursts, over-long lines,
 * and disconnects at any step (mid-command, mid-DATA, mid-handshake). The gateway's replies steer it (a transaction
 * continues when MAIL was accepted), so the same seed against the same gateway replays the same session.
 */
export async function runSession(seed: number, target: SessionTarget, trace?: (line: string) => void): Promise<SessionReport> {
  const session = new Session(seed, target, trace);
  await session.run();
  return session.report;
}

type Ending = 'quit' | 'destroy' | 'half-close' | 'partial-command';

class Session {
  private readonly rng: Prng;
  private conn: FuzzConnection | null = null;
  private tls = false;
  private authed = false;
  private mail = false;
  private recipients = 0;
  private sinkRecipients = 0;
  private over = false;
  readonly report: SessionReport;

  constructor(
    seed: number,
    private readonly target: SessionTarget,
    private readonly trace?: (line: string) => void,
  ) {
    this.rng = new Prng(seed);
    this.report = { seed, lines: 0, bytes: 0, accepted: 0, acceptedForSink: 0, findings: [] };
  }

  async run(): Promise<void> {
    try {
      await this.dialogue();
    } finally {
      this.conn?.destroy();
      this.report.lines = this.conn?.linesSent ?? this.report.lines;
      this.report.bytes = this.conn?.bytesSent ?? this.report.bytes;
    }
  }

  private async dialogue(): Promise<void> {
    const rng = this.rng;
    const implicitTls = rng.chance(0.25);
    if (rng.chance(0.03)) return this.abortBeforeGreeting(implicitTls);
    const conn = await FuzzConnection.open({
      port: implicitTls ? this.target.tlsPort : this.target.starttlsPort,
      tls: implicitTls,
      deadlineMs: this.target.deadlineMs,
      onFinding: (finding) => this.report.findings.push(finding),
      trace: this.trace,
    });
    if (!conn) return;
    this.conn = conn;
    this.tls = implicitTls;
    // A client that talks before the greeting, as `openssl s_client < transcript` does.
    if (rng.chance(0.05)) await conn.send(line(ehlo(rng), rng), 1);
    if (!(await this.settle(await conn.replies(), []))) return;
    for (let steps = rng.between(1, 50); steps > 0 && !this.over; steps--) {
      if (rng.chance(0.02)) return this.end(rng.pick<Ending>(['destroy', 'half-close', 'partial-command']));
      await this.step();
    }
    if (!this.over) await this.end(rng.weighted<Ending>([[14, 'quit'], [2, 'destroy'], [2, 'half-close'], [1, 'partial-command']]));
  }

  /** Connects and goes away before the greeting: at once, after some junk, or in the middle of an implicit-TLS handshake. */
  private async abortBeforeGreeting(implicitTls: boolean): Promise<void> {
    const rng = this.rng;
    if (implicitTls && rng.chance(0.7)) {
      const conn = await FuzzConnection.open({ port: this.target.tlsPort, tls: false, deadlineMs: this.target.deadlineMs, onFinding: () => undefined });
      await conn?.abandonTlsHandshake(rng.int(15));
      return;
    }
    const socket = netConnect({ host: '127.0.0.1', port: implicitTls ? this.target.tlsPort : this.target.starttlsPort });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) => {
      socket.once('connect', resolve);
      socket.once('close', resolve);
    });
    if (!socket.destroyed && rng.chance(0.5)) socket.write(junk(rng, rng.between(1, 300)));
    await new Promise((resolve) => setTimeout(resolve, rng.int(5)));
    socket.destroy();
  }

  private async step(): Promise<void> {
    const rng = this.rng;
    const action = rng.weighted<() => Promise<unknown>>([
      [this.tls ? 1 : 8, () => this.startTls()],
      [this.tls && !this.authed ? 8 : 1, () => this.authenticate()],
      [this.authed ? 12 : 2, () => this.transaction()],
      [2, () => this.commands([line(ehlo(rng), rng)])],
      [3, () => this.commands([line(otherCommand(rng), rng)])],
      [1, () => this.commands([line(mailFrom(rng, this.target.addresses), rng)])],
      [1, () => this.commands([line(rcptTo(rng, this.target.addresses), rng)])],
      [this.mail ? 2 : 1, () => this.data()],
      [1, () => this.commands([line(longLine(rng), rng)])],
      [2, () => this.burst()],
      [0.3, () => this.bdat()],
      [0.3, () => this.commands([line(`AUTH PLAIN ${Buffer.from(`\0${this.target.addresses.user}\0${this.target.addresses.password}`).toString('base64')}`, rng)])],
    ]);
    await action();
  }

  /** Sends the lines (none of them mode-changing, except possibly the last) in one write and reads their replies. */
  private async commands(lines: Buffer[]): Promise<ServerReply[] | null> {
    const conn = this.conn!;
    const data = Buffer.concat(lines);
    await conn.send(data, countLines(data), this.rng.chance(0.1) ? this.rng : undefined);
    const replies = await conn.replies();
    return (await this.settle(replies, lines)) ? replies : null;
  }

  /**
   * Follows the state the replies put the session in; false (and the session is over) when the connection is gone
   * or the server announced its end (221, 421), after checking that it really closes.
   */
  private async settle(replies: ServerReply[], lines: Buffer[]): Promise<boolean> {
    const conn = this.conn!;
    replies.forEach((reply, index) => this.follow(lines[index]?.toString('latin1') ?? '', reply));
    if (replies.some((reply) => reply.code === 221 || reply.code === 421) || conn.closing) {
      await conn.serverClose();
      this.over = true;
    }
    if (conn.closed) this.over = true;
    return !this.over;
  }

  private follow(sent: string, reply: ServerReply): void {
    const verb = sent.split(/[ \r\n]/)[0]!.toUpperCase();
    if (reply.code === 235) this.authed = true;
    if (reply.code !== 250) return;
    if (verb === 'EHLO' || verb === 'HELO' || verb === 'LHLO' || verb === 'RSET') this.resetTransaction();
    if (verb === 'MAIL') {
      this.resetTransaction();
      this.mail = true;
    }
    if (verb === 'RCPT') {
      this.recipients++;
      if (sent.toLowerCase().includes(`@${this.target.addresses.recipientDomain}`)) this.sinkRecipients++;
    }
  }

  private resetTransaction(): void {
    this.mail = false;
    this.recipients = 0;
    this.sinkRecipients = 0;
  }

  private async startTls(): Promise<void> {
    const rng = this.rng;
    const conn = this.conn!;
    // A command pipelined after STARTTLS must be thrown away, not run inside the TLS session (RFC 3207 5); it is
    // answered only when STARTTLS is refused.
    const injected = !this.tls && rng.chance(0.05);
    await conn.send(`STARTTLS${terminator(rng)}${injected ? 'NOOP\r\n' : ''}`, 1, undefined, injected ? 1 : 0);
    const reply = await conn.reply();
    if (reply?.code === 220) conn.disown();
    else if (injected) conn.owe(1);
    const replies = [reply, ...(injected && reply?.code !== 220 ? await conn.replies() : [])].filter((r): r is ServerReply => r !== null);
    if (!(await this.settle(replies, [Buffer.from('STARTTLS'), Buffer.from('NOOP')])) || reply?.code !== 220) return;
    const how = rng.weighted<string>([
      [18, 'handshake'],
      [1, 'abandon'],
      [1, 'garbage'],
    ]);
    if (how === 'abandon') {
      await conn.abandonTlsHandshake(rng.int(15));
      this.over = true;
      return;
    }
    if (how === 'garbage') {
      // Not a ClientHello: the server must give up the handshake (perhaps with a TLS alert) and close.
      conn.stopReading();
      await conn.send(junk(rng, rng.between(1, 2000)), 0);
      await conn.serverClose('the server kept the connection open after a failed TLS handshake');
      this.over = true;
      return;
    }
    if (!(await conn.startTls())) {
      this.over = true;
      return;
    }
    this.tls = true;
    this.authed = false;
    this.resetTransaction();
    // The state before STARTTLS is forgotten (RFC 3207 4.2): EHLO again, usually.
    if (rng.chance(0.9)) await this.commands([line(ehlo(rng), rng)]);
  }

  private async authenticate(): Promise<void> {
    const rng = this.rng;
    const conn = this.conn!;
    for (const text of auth(rng, this.target.addresses)) {
      const sent = line(text, rng);
      await conn.send(sent, 1);
      const reply = await conn.reply();
      if (!reply || !(await this.settle([reply], [sent])) || reply.code !== 334) return;
    }
  }

  /** MAIL, RCPT and DATA, pipelined or one by one, then the message. */
  private async transaction(): Promise<void> {
    const rng = this.rng;
    const addresses = this.target.addresses;
    const lines = [line(mailFrom(rng, addresses), rng)];
    const recipients = rng.weighted<() => number>([
      [20, () => 1],
      [6, () => rng.between(2, 5)],
      [1, () => rng.between(0, 0)],
      [1, () => rng.between(45, 55)],
    ])();
    for (let i = 0; i < recipients; i++) lines.push(line(rcptTo(rng, addresses), rng));
    if (rng.chance(0.7)) {
      // PIPELINING: the whole envelope and DATA in one write, DATA last.
      const dataLine = line('DATA', rng);
      if (rng.chance(0.05)) return this.contentBeforeGoAhead([...lines, dataLine]);
      const replies = await this.commands([...lines, dataLine]);
      const last = replies?.[replies.length - 1];
      if (replies && replies.length === lines.length + 1 && last?.code === 354) await this.message();
      return;
    }
    for (const sent of lines) if (!(await this.commands([sent]))) return;
    await this.data();
  }

  /** DATA on its own line, and the message if the gateway says go ahead. */
  private async data(): Promise<void> {
    const rng = this.rng;
    const text = rng.weighted<string>([
      [20, 'DATA'],
      [1, 'data'],
      [1, 'DATA extra'],
    ]);
    const replies = await this.commands([line(text, rng)]);
    if (replies?.[0]?.code === 354) await this.message();
  }

  /** After 354: the message, sometimes cut off (mid-line, just before the final dot, in the middle of the dot line). */
  private async message(): Promise<void> {
    const rng = this.rng;
    const conn = this.conn!;
    const addresses = this.target.addresses;
    const content = messageContent(rng, `Sender <sender@${addresses.senderDomain}>`, `<someone@${addresses.recipientDomain}>`);
    const transfer = dataTransfer(content);
    const sinkBound = this.sinkRecipients > 0;
    this.resetTransaction();
    const how = rng.weighted<string>([
      [40, 'whole'],
      [4, 'split'],
      [2, 'stall'],
      [1, 'cut'],
      [1, 'cut-in-final-dot'],
    ]);
    if (how === 'cut' || how === 'cut-in-final-dot') {
      const at = how === 'cut' ? rng.int(transfer.length) : transfer.length - rng.between(1, 3);
      await conn.send(transfer.subarray(0, at), 0, rng.chance(0.3) ? rng : undefined);
      return this.end(rng.pick<Ending>(['destroy', 'half-close']));
    }
    if (how === 'stall') {
      const at = rng.int(transfer.length);
      await conn.send(transfer.subarray(0, at), 0);
      await new Promise((resolve) => setTimeout(resolve, rng.between(1, 30)));
      await conn.send(transfer.subarray(at), 1);
    } else {
      await conn.send(transfer, 1, how === 'split' ? rng : undefined);
    }
    const reply = await conn.reply();
    if (reply?.code === 250) {
      this.report.accepted++;
      if (sinkBound) this.report.acceptedForSink++;
    }
    if (reply) await this.settle([reply], []);
  }

  /**
   * The message sent right behind DATA, before the 354 (a client that does not wait for the go-ahead). If DATA is
   * refused the message's lines are read as commands, and how many replies that makes cannot be told in advance: the
   * session then ends.
   */
  private async contentBeforeGoAhead(lines: Buffer[]): Promise<void> {
    const rng = this.rng;
    const conn = this.conn!;
    const addresses = this.target.addresses;
    const envelope = Buffer.concat(lines);
    const transfer = dataTransfer(messageContent(rng, `<sender@${addresses.senderDomain}>`, `<someone@${addresses.recipientDomain}>`));
    conn.stopCounting();
    await conn.send(Buffer.concat([envelope, transfer]), countLines(envelope));
    const replies = await conn.replies();
    replies.forEach((reply, index) => this.follow(lines[index]?.toString('latin1') ?? '', reply));
    if (replies.length !== lines.length || replies[replies.length - 1]?.code !== 354) return this.end('destroy');
    const sinkBound = this.sinkRecipients > 0;
    this.resetTransaction();
    conn.owe(1);
    const reply = await conn.reply();
    if (reply?.code === 250) {
      this.report.accepted++;
      if (sinkBound) this.report.acceptedForSink++;
    }
    await this.end('quit');
  }

  /** Several commands in one write: odd ones, envelope ones, and at most one that may change the mode, last. */
  private async burst(): Promise<void> {
    const rng = this.rng;
    const addresses = this.target.addresses;
    const lines: Buffer[] = [];
    for (let i = rng.between(2, 40); i > 0; i--) {
      const text = rng.weighted<() => string | Buffer>([
        [4, () => otherCommand(rng)],
        [2, () => mailFrom(rng, addresses)],
        [3, () => rcptTo(rng, addresses)],
        [1, () => ehlo(rng)],
      ])();
      lines.push(line(mayChangeMode(text) ? 'NOOP' : text, rng));
    }
    const replies = await this.commands(lines);
    if (replies && this.mail && this.recipients > 0 && rng.chance(0.5)) await this.data();
  }

  /** CHUNKING is not offered: BDAT and its chunk must be refused as unknown commands, not hang. */
  private async bdat(): Promise<void> {
    const rng = this.rng;
    const chunk = rng.word(0, 20);
    // The CRLF after the chunk makes the count of replies the same whether or not the server reads the chunk.
    await this.commands([Buffer.from(`BDAT ${chunk.length} LAST\r\n${chunk}\r\n`, 'latin1')]);
  }

  private async end(how: Ending): Promise<void> {
    const rng = this.rng;
    const conn = this.conn!;
    this.over = true;
    if (conn.closed) return;
    switch (how) {
      case 'quit':
        await conn.send(line('QUIT', rng), 1);
        await conn.replies();
        await conn.serverClose('the server kept the connection open after QUIT');
        return;
      case 'half-close':
        return conn.closeGracefully();
      case 'partial-command':
        await conn.send(rng.pick(['MAIL FROM:<sender@', 'EHL', 'DATA', 'RCPT TO:<a@b>\r']), 0);
        conn.destroy();
        return;
      case 'destroy':
        conn.destroy();
        return;
    }
  }
}
