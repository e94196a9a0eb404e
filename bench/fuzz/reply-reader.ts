export interface ServerReply {
  code: number;
  /** Every line of the reply, CRLF removed. */
  lines: string[];
}

/** RFC 5321 4.5.3.1.5: a reply line is at most 512 octets, CRLF included. */
const MAX_REPLY_LINE = 512;
/** RFC 5321 4.2: Reply-code = %x32-35 %x30-35 %x30-39, then SP or "-" and a textstring (HT, SP, printable ASCII). */
const REPLY_CODE = /^[2-5][0-5][0-9]/;
const NOT_TEXT = /[^\t\x20-\x7e]/;

/**
 * Cuts the bytes a server sends into replies and checks each against the reply grammar of RFC 5321 4.2: every line
 * ends in CRLF, starts with a three-digit code followed by a space, a dash or the end of the line, carries only
 * printable ASCII, and the lines of a multiline reply share their code, all but the last with a dash.
 */
export class ReplyReader {
  private pending = '';
  private lines: string[] = [];
  private code = 0;

  constructor(
    private readonly onReply: (reply: ServerReply) => void,
    private readonly onMalformed: (problem: string, excerpt: string) => void,
  ) {}

  push(chunk: Buffer): void {
    this.pending += chunk.toString('latin1');
    let end: number;
    while ((end = this.pending.indexOf('\n')) !== -1) {
      const crlf = end > 0 && this.pending[end - 1] === '\r';
      const line = this.pending.slice(0, crlf ? end - 1 : end);
      this.pending = this.pending.slice(end + 1);
      if (!crlf) this.onMalformed('reply line ends in a bare LF', line);
      this.line(line);
    }
    if (this.pending.length > MAX_REPLY_LINE) {
      this.onMalformed(`reply line longer than ${MAX_REPLY_LINE} octets without CRLF`, this.pending);
      this.pending = '';
    }
  }

  /** The connection is closed: anything left is an unterminated reply. */
  end(): void {
    if (this.pending !== '') this.onMalformed('reply line not terminated by CRLF before the connection closed', this.pending);
    else if (this.lines.length > 0) this.onMalformed('multiline reply without its last line before the connection closed', this.lines[this.lines.length - 1]!);
    this.pending = '';
    this.lines = [];
  }

  private line(line: string): void {
    if (line.length + 2 > MAX_REPLY_LINE) this.onMalformed(`reply line longer than ${MAX_REPLY_LINE} octets`, line);
    if (!REPLY_CODE.test(line)) {
      this.onMalformed('reply line does not start with a reply code', line);
      return;
    }
    const separator = line[3];
    if (separator !== undefined && separator !== ' ' && separator !== '-') {
      this.onMalformed('reply code followed by neither a space nor a dash', line);
      return;
    }
    if (NOT_TEXT.test(line.slice(4))) this.onMalformed('control or 8-bit character in reply text', line);
    const code = Number(line.slice(0, 3));
    if (this.lines.length > 0 && code !== this.code) this.onMalformed(`multiline reply changes its code from ${this.code}`, line);
    if (this.lines.length === 0) this.code = code;
    this.lines.push(line);
    if (separator === '-') return;
    const reply = { code: this.code, lines: this.lines };
    this.lines = [];
    this.onReply(reply);
  }
}
