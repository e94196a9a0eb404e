/**
 * The MX both MTAs deliver to, run as a child process of the bench (token-sink-process.ts) so that its CPU is neither
 * the load client's nor the MTA's. It speaks just enough SMTP for an MTA's delivery client (EHLO with PIPELINING,
 * MAIL, RCPT, DATA, RSET, NOOP, QUIT; no TLS), throws the mail away, and keeps only what the bench asks about: which
 * X-Bench-Token values arrived and how often, and the whole of a few sampled messages for the DKIM check. Per message
 * it looks at the header bytes up to the token line and searches the rest for the end of data, nothing more.
 */
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { TOKEN_HEADER } from './bench-message.js';
import type { SinkReply, SinkRequest } from './token-sink-protocol.js';

const CRLF = Buffer.from('\r\n');
const TOKEN_MARK = Buffer.from(`\r\n${TOKEN_HEADER}: `);
const HEADER_END = Buffer.from('\r\n\r\n');
const DATA_END = Buffer.from('\r\n.\r\n');
/** Header bytes searched for the token at most; past it (or past the header's end) a message counts as without one. */
const HEADER_SCAN_LIMIT = 256 * 1024;
const EHLO_REPLY = '250-token-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 209715200\r\n';

/** What arrived of one run's messages. */
interface RunTally {
  /** Copies received, by message index. */
  copies: Map<number, number>;
  duplicates: number;
  /** Epoch ms (performance.timeOrigin + now, comparable between processes) of the last message not seen before. */
  lastNewAt: number;
  sampleEvery: number;
  samples: Map<number, Buffer>;
}

const runs = new Map<string, RunTally>();
const strays = new Map<string, number>();
let messages = 0;

const epochNow = () => performance.timeOrigin + performance.now();

function arrived(token: string | null, raw: Buffer | null): void {
  messages++;
  const [tag, indexText] = token?.split(' ') ?? [];
  const tally = tag === undefined ? undefined : runs.get(tag);
  const index = Number(indexText);
  if (!tally || !Number.isSafeInteger(index)) {
    const reason = token === null ? 'no token' : `token of no expected run (${token})`;
    strays.set(reason, (strays.get(reason) ?? 0) + 1);
    return;
  }
  const copies = tally.copies.get(index) ?? 0;
  tally.copies.set(index, copies + 1);
  if (copies > 0) tally.duplicates++;
  else {
    tally.lastNewAt = epochNow();
    if (raw) tally.samples.set(index, raw);
  }
}

/** One delivery connection: command lines until DATA, then message bytes until CRLF.CRLF, and so on. */
class SinkSession {
  private inData = false;
  private commandText = '';
  /** The last bytes of the message so far, to find an end of data split between two chunks. */
  private tail: Buffer = CRLF;
  /** Header bytes until the token is read (starting with CRLF, so a token on the first line is found too). */
  private header: Buffer[] = [];
  private headerBytes = 0;
  private token: string | null | undefined = undefined;
  /** The whole message, while it is a sampled one. */
  private kept: Buffer[] | null = null;
  private replies = '';

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.write('220 token-sink ESMTP\r\n');
  }

  private onData(chunk: Buffer): void {
    let rest: Buffer | null = chunk;
    while (rest && rest.length > 0) rest = this.inData ? this.data(rest) : this.commands(rest);
    if (this.replies) {
      this.socket.write(this.replies);
      this.replies = '';
    }
  }

  /** Runs the complete command lines; returns what follows a DATA command (message bytes), or null. */
  private commands(chunk: Buffer): Buffer | null {
    this.commandText += chunk.toString('latin1');
    let start = 0;
    let end: number;
    while ((end = this.commandText.indexOf('\r\n', start)) !== -1) {
      const verb = this.commandText.slice(start, Math.min(end, start + 4)).toUpperCase();
      start = end + 2;
      if (verb === 'DATA') {
        this.replies += '354 go ahead\r\n';
        this.startMessage();
        const after = this.commandText.slice(start);
        this.commandText = '';
        return Buffer.from(after, 'latin1');
      }
      if (verb === 'EHLO') this.replies += EHLO_REPLY;
      else if (verb === 'QUIT') {
        this.replies += '221 bye\r\n';
        this.socket.end(this.replies);
        this.replies = '';
        this.commandText = '';
        return null;
      } else if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET' || verb === 'NOOP' || verb === 'HELO') this.replies += '250 ok\r\n';
      else this.replies += '502 not implemented\r\n';
    }
    this.commandText = this.commandText.slice(start);
    return null;
  }

  private startMessage(): void {
    this.inData = true;
    this.tail = CRLF;
    this.header = [CRLF];
    this.headerBytes = CRLF.length;
    this.token = undefined;
    this.kept = null;
  }

  /** Takes message bytes; returns what follows the end of data (more commands), or null. */
  private data(chunk: Buffer): Buffer | null {
    const end = endOfData(this.tail, chunk);
    const part = end === -1 ? chunk : chunk.subarray(0, end);
    if (this.token === undefined) this.readToken(part);
    else this.kept?.push(part);
    if (end === -1) {
      this.tail = Buffer.concat([this.tail, chunk.subarray(-4)]).subarray(-4);
      return null;
    }
    this.inData = false;
    const raw = this.kept ? unstuff(Buffer.concat(this.kept)) : null;
    this.kept = null;
    arrived(this.token ?? null, raw);
    this.replies += '250 2.0.0 Ok: queued\r\n';
    return chunk.subarray(end);
  }

  private readToken(part: Buffer): void {
    this.header.push(part);
    this.headerBytes += part.length;
    const header = Buffer.concat(this.header, this.headerBytes);
    const mark = header.indexOf(TOKEN_MARK);
    const lineEnd = mark === -1 ? -1 : header.indexOf(CRLF, mark + TOKEN_MARK.length);
    if (lineEnd !== -1) this.token = header.toString('latin1', mark + TOKEN_MARK.length, lineEnd);
    else if (header.indexOf(HEADER_END) !== -1 || header.length > HEADER_SCAN_LIMIT) this.token = null;
    else {
      this.header = [header];
      return;
    }
    this.header = [];
    const tally = this.token === null ? undefined : runs.get(this.token.split(' ')[0] as string);
    // Sampled by the index in the token; the leading CRLF put in front of the header is not part of the message.
    if (tally && Number(this.token?.split(' ')[1]) % tally.sampleEvery === 0) this.kept = [header.subarray(CRLF.length)];
  }
}

/**
 * Offset just past the CRLF "." CRLF that ends the message (the CRLF before the dot being the message's last line
 * end), or -1. `tail` holds the last bytes before the chunk, so an end split between chunks is found too.
 */
function endOfData(tail: Buffer, chunk: Buffer): number {
  const seam = Buffer.concat([tail, chunk.subarray(0, DATA_END.length - 1)]).indexOf(DATA_END);
  if (seam !== -1) return seam + DATA_END.length - tail.length;
  const inside = chunk.indexOf(DATA_END);
  return inside === -1 ? -1 : inside + DATA_END.length;
}

/** The message as the sender wrote it: without the final "." CRLF, and with the dot-stuffing undone. */
function unstuff(data: Buffer): Buffer {
  return Buffer.from(data.subarray(0, data.length - 3).toString('latin1').replaceAll('\r\n..', '\r\n.'), 'latin1');
}

function answer(request: SinkRequest): SinkReply {
  switch (request.type) {
    case 'expect':
      runs.set(request.tag, { copies: new Map(), duplicates: 0, lastNewAt: 0, sampleEvery: request.sampleEvery, samples: new Map() });
      return { id: request.id, type: 'ok' };
    case 'status': {
      const tally = runs.get(request.tag);
      return { id: request.id, type: 'status', distinct: tally?.copies.size ?? 0, lastNewAt: tally?.lastNewAt ?? 0 };
    }
    case 'result': {
      const tally = runs.get(request.tag);
      return {
        id: request.id,
        type: 'result',
        received: [...(tally?.copies.keys() ?? [])],
        duplicates: tally?.duplicates ?? 0,
        samples: [...(tally?.samples ?? [])],
      };
    }
    case 'usage': {
      const cpu = process.cpuUsage();
      return { id: request.id, type: 'usage', cpuMs: (cpu.user + cpu.system) / 1000, messages, strays: Object.fromEntries(strays) };
    }
  }
}

const send = (reply: SinkReply | { type: 'listening'; port: number }) => process.send?.(reply);
process.on('message', (request: SinkRequest) => send(answer(request)));
// The bench is gone (or stopped the sink): nothing is left to report to.
process.on('disconnect', () => process.exit(0));

const server = createServer({ noDelay: true }, (socket) => new SinkSession(socket));
server.on('error', (error) => {
  process.stderr.write(`token-sink: ${error.message}\n`);
  process.exit(1);
});
server.listen(0, process.argv[2] ?? '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') send({ type: 'listening', port: address.port });
});
