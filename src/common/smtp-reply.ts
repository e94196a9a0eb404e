/**
 * An SMTP reply chosen by the gateway. It is an Error because smtp-server takes refusals as errors
 * with a `responseCode`; the message is the reply text after the code.
 */
export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpReply';
  }

  override toString(): string {
    return `${this.responseCode} ${this.message}`;
  }
}
