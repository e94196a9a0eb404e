/** RFC 5322 2.1.1: a line is at most 998 characters, CRLF excluded. */
const MAX_LINE = 998;

export interface DeliveredDefects {
  nul: boolean;
  /** A CR not followed by LF, or an LF not preceded by CR. */
  bareLineEnding: boolean;
  /** Length of the longest line (CRLF excluded) when it is over 998, else 0. */
  longLine: number;
}

/** What is wrong, by RFC 5321/5322, with a message as an MX received it (after dot-unstuffing). */
export function auditDelivered(raw: Buffer): DeliveredDefects {
  let nul = false;
  let bareLineEnding = false;
  let longest = 0;
  let lineStart = 0;
  for (let i = 0; i < raw.length; i++) {
    const byte = raw[i];
    if (byte === 0x00) nul = true;
    else if (byte === 0x0d) {
      if (raw[i + 1] !== 0x0a) bareLineEnding = true;
    } else if (byte === 0x0a) {
      if (raw[i - 1] !== 0x0d) bareLineEnding = true;
      const length = i - lineStart - (raw[i - 1] === 0x0d ? 1 : 0);
      if (length > longest) longest = length;
      lineStart = i + 1;
    }
  }
  longest = Math.max(longest, raw.length - lineStart);
  return { nul, bareLineEnding, longLine: longest > MAX_LINE ? longest : 0 };
}

/** Counts of delivered messages with each defect, and the first Message-ID of each kind, for looking it up. */
export class SinkAudit {
  delivered = 0;
  withNul = 0;
  withBareLineEnding = 0;
  withLongLine = 0;
  longestLine = 0;
  readonly examples: string[] = [];

  record(raw: Buffer): void {
    this.delivered++;
    const defects = auditDelivered(raw);
    if (defects.nul) this.withNul++;
    if (defects.bareLineEnding) this.withBareLineEnding++;
    if (defects.longLine) this.withLongLine++;
    this.longestLine = Math.max(this.longestLine, defects.longLine);
    if ((defects.nul || defects.bareLineEnding || defects.longLine) && this.examples.length < 5) {
      const kinds = [defects.nul && 'NUL', defects.bareLineEnding && 'bare CR/LF', defects.longLine && `${defects.longLine}-byte line`].filter(Boolean).join(', ');
      this.examples.push(`${messageId(raw) ?? '(no Message-ID)'}: ${kinds}`);
    }
  }
}

/** The Message-ID header's value, from the header section. */
export function messageId(raw: Buffer): string | null {
  const end = raw.indexOf('\r\n\r\n');
  const header = raw.subarray(0, end === -1 ? raw.length : end).toString('latin1');
  return /^Message-ID:[ \t]*(<[^>\r\n]*>)/im.exec(header)?.[1] ?? null;
}
