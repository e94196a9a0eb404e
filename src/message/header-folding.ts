import { MAX_LINE_LENGTH } from './line-scanner.js';

const isWhiteSpace = (char: string | undefined): boolean => char === ' ' || char === '\t';

/**
 * A header field (its raw text: physical lines joined by CRLF) with every line over 998 bytes folded (RFC 5322
 * 2.2.3): a CRLF goes in before white space, so unfolding gives the very same field back. Null when a line has no
 * white space to fold at (a 1,200-character token): such a field cannot be sent.
 */
export function foldLongLines(field: string): string | null {
  if (field.length <= MAX_LINE_LENGTH) return field;
  const lines = field.split('\r\n');
  for (let index = 0; index < lines.length; index++) {
    // The field name and its colon stay together on the first line.
    const folded = foldLine(lines[index]!, index === 0 ? lines[index]!.indexOf(':') + 1 : 1);
    if (folded === null) return null;
    lines[index] = folded;
  }
  return lines.join('\r\n');
}

/**
 * Breaks before the last run of white space that leaves a piece of at most 998 bytes, with text before the run and
 * after it, so that no line is empty or white space only.
 */
function foldLine(line: string, firstBreak: number): string | null {
  const pieces: string[] = [];
  // Found once: trimming what is left at every fold was quadratic in a long run of trailing white space.
  const lastText = line.trimEnd().length - 1;
  let start = 0;
  let earliest = firstBreak;
  while (line.length - start > MAX_LINE_LENGTH) {
    const lowest = start + Math.max(earliest, 1);
    let at = Math.min(start + MAX_LINE_LENGTH, lastText);
    while (at >= lowest && !(isWhiteSpace(line[at]) && !isWhiteSpace(line[at - 1]))) at--;
    if (at < lowest) return null;
    pieces.push(line.slice(start, at));
    start = at;
    earliest = 1;
  }
  pieces.push(line.slice(start));
  return pieces.join('\r\n');
}
