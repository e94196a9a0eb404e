/**
 * Small, pinned adjustments to smtp-server 3.21.x (package.json pins the exact version and the
 * integration tests assert every reply below, so an upgrade that breaks one fails the suite).
 * smtp-server builds its connection objects itself, so these wrap its prototype methods:
 *
 * - No 100 ms "early talker" hold-off: SES clients pipeline whole transcripts (the guide's
 *   `openssl s_client < input.txt` sends EHLO before the greeting arrives), and the delay caps
 *   one-message-per-connection throughput.
 * - A command guard the gateway supplies (STARTTLS before AUTH/MAIL, envelope syntax) sees every
 *   command before smtp-server does, except AUTH continuation lines.
 * - SES's texts for the idle timeout and for a too-large SIZE= parameter.
 * - Replies written in the same tick (answers to pipelined commands) leave in one TLS record and
 *   one write instead of one each.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import type { SMTPServerSession } from 'smtp-server';
import type { SmtpReply } from '../common/smtp-reply.js';

/** What the guard decides for one command line: reply and skip it, rewrite it, or let it through. */
export type CommandVerdict = { reply: SmtpReply } | { rewrite: string } | undefined;

export type CommandGuard = (line: string, session: SMTPServerSession, secure: boolean) => CommandVerdict;

interface ConnectionInternals {
  _server: { options: { commandGuard?: CommandGuard } };
  _socket: import('node:net').Socket;
  _nextHandler: unknown;
  _upgrading: boolean;
  _ready: boolean;
  secure: boolean;
  session: SMTPServerSession;
  send(code: number, data: string | string[], context?: string | false): void;
  close(): void;
  connectionReady(next?: () => void): void;
  init(): void;
  _setListeners(callback: () => void): void;
  _whenWritable(next: () => void): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  _validateMailParams(parsed: unknown): { code: number; message: string; enhancedCode: string | null } | null;
}

type Method<K extends keyof ConnectionInternals> = ConnectionInternals[K];

const prototype = SMTPConnection.prototype as unknown as ConnectionInternals;
const IDLE_TIMEOUT_TEXT = 'Timeout - closing connection';

let installed = false;

export function installSmtpServerCompat(idleTimeoutText: string, messageTooLongText: string): void {
  if (installed) return;
  installed = true;

  prototype.init = function init(this: ConnectionInternals) {
    this._setListeners(() => this.connectionReady());
  };

  const onCommand = prototype._onCommand as Method<'_onCommand'>;
  prototype._onCommand = function guardedOnCommand(this: ConnectionInternals, command: Buffer, callback?: () => void) {
    const guard = this._server.options.commandGuard;
    if (guard && this._ready && !this._upgrading && !this._nextHandler) {
      const verdict = guard(command.toString('latin1'), this.session, this.secure);
      if (verdict && 'reply' in verdict) {
        this.send(verdict.reply.responseCode, verdict.reply.message);
        setImmediate(() => this._whenWritable(callback ?? (() => undefined)));
        return;
      }
      if (verdict && 'rewrite' in verdict) command = Buffer.from(verdict.rewrite, 'latin1');
    }
    onCommand.call(this, command, callback);
  };

  const send = prototype.send as Method<'send'>;
  prototype.send = function sesSend(this: ConnectionInternals, code: number, data: string | string[], context?: string | false) {
    if (code === 421 && data === IDLE_TIMEOUT_TEXT) {
      send.call(this, 451, idleTimeoutText, false);
      this.close();
      return;
    }
    const socket = this._socket;
    if (socket && !socket.writableCorked) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    send.call(this, code, data, context);
  };

  const validateMailParams = prototype._validateMailParams as Method<'_validateMailParams'>;
  prototype._validateMailParams = function sesMailParams(this: ConnectionInternals, parsed: unknown) {
    const problem = validateMailParams.call(this, parsed);
    return problem && problem.code === 552 ? { code: 552, message: messageTooLongText, enhancedCode: null } : problem;
  };
}

declare module 'smtp-server' {
  interface SMTPServerOptions {
    commandGuard?: CommandGuard;
  }
}
