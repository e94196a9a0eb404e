import type { SMTPServerDataStream } from 'smtp-server';
import type { SmtpReply } from '../common/smtp-reply.js';
import type { SmtpConfig } from '../config/schema.js';
import { Replies } from './replies.js';

export type SessionLimitConfig = Pick<
  SmtpConfig,
  'maxCommandsBeforeAuth' | 'authTimeoutSeconds' | 'idleTimeoutSeconds' | 'dataTimeoutSeconds' | 'dataMinBytesPerSecond' | 'maxSessionSeconds'
>;

/** How the session is to end: the reply, the option that was exceeded, and whether a message being received is finished first. */
export type EndSession = (reply: SmtpReply, limit: keyof SessionLimitConfig, afterMessage: boolean) => void;

/** A rate deadline that is close is checked again no sooner than this, so a client just above the rate costs few timer runs. */
const MIN_RECHECK_MS = 1000;

/**
 * The limits one session is held to over time, so that no client holds a connection (and its slot in
 * the connection limits) by being slow: it must authenticate within authTimeoutSeconds and
 * maxCommandsBeforeAuth commands, a message must arrive within dataTimeoutSeconds and at
 * dataMinBytesPerSecond on average, and the connection is closed after maxSessionSeconds (between
 * messages, so no message is cut off).
 */
export class SessionLimits {
  private commandsBeforeAuth = 0;
  private readonly authTimer: NodeJS.Timeout;
  private readonly lifetimeTimer: NodeJS.Timeout;
  private dataTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: SessionLimitConfig,
    private readonly end: EndSession,
  ) {
    this.authTimer = timer(() => end(Replies.authTimeout(), 'authTimeoutSeconds', false), config.authTimeoutSeconds * 1000);
    this.lifetimeTimer = timer(() => end(Replies.sessionTooLong(), 'maxSessionSeconds', true), config.maxSessionSeconds * 1000);
  }

  /** Counts one command sent before AUTH (AUTH itself is left to the AUTH throttle); false once there were too many. */
  allowCommandBeforeAuth(): boolean {
    this.commandsBeforeAuth += 1;
    return this.commandsBeforeAuth <= this.config.maxCommandsBeforeAuth;
  }

  authenticated(): void {
    clearTimeout(this.authTimer);
  }

  /**
   * Holds one message transfer to its deadlines until its stream ends. As in Postfix's
   * smtpd_min_data_rate, the transfer may last idleTimeoutSeconds plus one second per
   * dataMinBytesPerSecond bytes received so far, and never longer than dataTimeoutSeconds.
   */
  watchData(stream: SMTPServerDataStream): void {
    const started = Date.now();
    const hardDeadline = started + this.config.dataTimeoutSeconds * 1000;
    const minRate = this.config.dataMinBytesPerSecond;
    const check = () => {
      const rateDeadline = minRate > 0 ? started + this.config.idleTimeoutSeconds * 1000 + (stream.byteLength / minRate) * 1000 : Infinity;
      const deadline = Math.min(hardDeadline, rateDeadline);
      const now = Date.now();
      if (now >= deadline) {
        this.end(Replies.dataTimeout(), rateDeadline < hardDeadline ? 'dataMinBytesPerSecond' : 'dataTimeoutSeconds', false);
        return;
      }
      this.dataTimer = timer(check, deadline === hardDeadline ? deadline - now : Math.max(deadline - now, MIN_RECHECK_MS));
    };
    check();
    const stop = () => clearTimeout(this.dataTimer);
    stream.once('end', stop);
    stream.once('close', stop);
  }

  stop(): void {
    clearTimeout(this.authTimer);
    clearTimeout(this.lifetimeTimer);
    clearTimeout(this.dataTimer);
  }
}

/** The limits' timers never keep the process alive: the sessions' sockets do. */
function timer(callback: () => void, ms: number): NodeJS.Timeout {
  return setTimeout(callback, ms).unref();
}
