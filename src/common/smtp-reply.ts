/**
 * An SMTP reply chosen by the gateway. It is an Error because smtp-server takes refusals as errors
 * with a `responseCode`; the message is the reply text after the code.
 */
export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    // A reply is an answer, not a fault: without a stack it costs no trace capture, and every message makes some.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    // Reply texts quote what clients sent (a configuration set name, an address): SMTP replies are ASCII, so
    // anything else becomes '?' rather than going back as raw 8-bit bytes.
    super(message.replace(/[^\x20-\x7e]/g, '?'));
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'SmtpReply';
  }

  override toString(): string {
    return `${this.responseCode} ${this.message}`;
  }
}
