/** An SMTP reply split into its basic code, RFC 3463 enhanced code and free text. */
export interface ParsedReply {
  code: number | null;
  enhancedCode: string | null;
  text: string;
}

const REPLY_LINE = /^([2-5]\d\d)(?:[ -]|$)(.*)$/;
const ENHANCED_CODE = /^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)/;
// DSN Diagnostic-Code values carry a type prefix ("smtp; 550 ...", "X-Postfix; unknown user").
const DIAGNOSTIC_TYPE = /^\s*(?:smtp|x-[\w-]+)\s*;\s*/i;

/**
 * Parses a possibly multi-line reply ("550-5.1.1 first\r\n550 5.1.1 second"). The code and enhanced code come
 * from the first line that has them; every line's text is joined with single spaces, without the repeated codes.
 */
export function parseSmtpReply(reply: string): ParsedReply {
  let code: number | null = null;
  let enhancedCode: string | null = null;
  const texts: string[] = [];

  for (const rawLine of reply.replace(DIAGNOSTIC_TYPE, '').split(/\r?\n/)) {
    let line = rawLine.trim();
    const replyLine = REPLY_LINE.exec(line);
    if (replyLine) {
      code ??= Number(replyLine[1]);
      line = replyLine[2].trim();
    }
    const enhanced = ENHANCED_CODE.exec(line);
    if (enhanced) {
      enhancedCode ??= enhanced[1];
      line = line.slice(enhanced[0].length);
    }
    if (line) texts.push(line);
  }

  return { code, enhancedCode, text: texts.join(' ').replace(/\s+/g, ' ') };
}
