/**
 * How much of a remote party's free text (an SMTP reply, a DSN's Diagnostic-Code, a report's User-Agent) is kept in
 * queue rows and events. Such text is for people, leads with its codes, and is chosen by whoever sent it.
 */
export const REMOTE_TEXT_LIMIT = 2048;

/** The text cut to REMOTE_TEXT_LIMIT characters, saying how long it was. */
export function boundedText(text: string): string {
  return text.length <= REMOTE_TEXT_LIMIT ? text : `${text.slice(0, REMOTE_TEXT_LIMIT)}... (${text.length} characters in all)`;
}
