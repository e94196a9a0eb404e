/**
 * Small, pinned adjustments to smtp-server 3.21.x (package.json pins the exact version and the
 * integration tests assert every reply below, so an upgrade that breaks one fails the suite).
 * smtp-server builds its connection objects itself, so these wrap its prototype methods:
 *
 * - No 100 ms "early talker" hold-off: SES clients pipeline whole transcripts (the guide's
 *   `openssl s_client < input.txt` sends EHLO before the greeting arrives), and the delay caps
 *   one-message-per-connection throughput. Commands that arrive before the greeting (while the
 *   session gate, a call to the primary in a session worker, admits the connection) are held
 *   and answered after it, instead of smtp-server's `421 You talk too soon`.
 * - A command guard the gateway supplies (STARTTLS before AUTH/MAIL, envelope syntax) sees every
 *   command before smtp-server does, except AUTH continuation lines.
 * - SES's texts: the idle timeout, a too-large SIZE= parameter, `250 Ok` to MAIL, RCPT and NOOP.
 * - Replies written in the same tick (answers to pipelined commands) leave in one TLS record and
 *   one write instead of one each.
 * - No recipient merging: smtp-server treats RCPTs that differ only in case as one recipient, but
 *   local parts are case-sensitive; the RCPT handler applies the gateway's rule instead.
 * - `closeSession`: the gateway ends a session itself (its limits, shutdown), at once or right
 *   after the reply to a message being received.
 * - DATA's escape dots are removed in one pass per chunk (data-dot-unstuffing.ts).
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import type { SmtpReply } from '../common/smtp-reply.js';
import { installLinearDotUnstuffing } from './data-dot-unstuffing.js';

/** What the guard decides for one command line: reply and skip it, rewrite it, or let it through. */
export type CommandVerdict = { reply: SmtpReply } | { rewrite: string } | undefined;

export type CommandGuard = (line: string, session: SMTPServerSession, secure: boolean) => CommandVerdict;

interface ConnectionInternals {
  _server: { options: { commandGuard?: CommandGuard; handshakeTimeout?: number } };
  _socket: import('node:net').Socket;
  _nextHandler: unknown;
  _upgrading: boolean;
  _ready: boolean;
  /** The stream of the message being received, from DATA until its reply has been sent. */
  _dataStream: unknown;
  _rcptIndex: Map<string, number>;
  secure: boolean;
  session: SMTPServerSession;
  send(code: number, data: string | string[], context?: string | false): void;
  close(): void;
  connectionReady(next?: () => void): void;
  init(): void;
  _setListeners(callback: () => void): void;
  _whenWritable(next: () => void): void;
  _onCommand(command: Buffer, callback?: () => void): void;
  _resetSession(): void;
  upgrade(callback: () => void, secureCallback?: () => void): void;
  _validateMailParams(parsed: unknown): { code: number; message: string; enhancedCode: string | null } | null;
  handler_NOOP(command: Buffer, callback: () => void): void;
}

type Method<K extends keyof ConnectionInternals> = ConnectionInternals[K];

interface ServerInternals {
  options: { handshakeTimeout?: number };
  _upgrade(socket: import('node:net').Socket, callback: (error: Error | null, tlsSocket?: unknown) => void): void;
}

const prototype = SMTPConnection.prototype as unknown as ConnectionInternals;
const IDLE_TIMEOUT_TEXT = 'Timeout - closing connection';
/** smtp-server's text for a MAIL or RCPT it took. */
const ACCEPTED_TEXT = 'Accepted';
const OK_TEXT = 'Ok';

/** An index that never finds a recipient, so smtp-server adds every RCPT the handler let through. */
class NoRecipientIndex extends Map<string, number> {
  override set(): this {
    return this;
  }
}
const NO_RECIPIENT_INDEX = new NoRecipientIndex();

const connections = new WeakMap<SMTPServerSession, ConnectionInternals>();
/** Replies to send once the message being received has been answered. */
const closeAfterMessage = new WeakMap<ConnectionInternals, SmtpReply>();
/** The first command a client sent before the greeting, run once the greeting is out. */
const heldUntilGreeting = new WeakMap<ConnectionInternals, () => void>();

/**
 * Sends `reply` and closes the connection. With `afterMessage`, a message being received is first
 * finished and answered (its 250 or refusal), and the session ends right after that.
 */
export function closeSession(session: SMTPServerSession, reply: SmtpReply, afterMessage = false): void {
  const connection = connections.get(session);
  if (!connection) return;
  if (afterMessage && connection._dataStream) {
    if (!closeAfterMessage.has(connection)) closeAfterMessage.set(connection, reply);
    return;
  }
  connection.send(reply.responseCode, reply.message);
  connection.close();
}

let installed = false;

export function installSmtpServerCompat(idleTimeoutText: string, messageTooLongText: string): void {
  if (installed) return;
  installed = true;
  installLinearDotUnstuffing();

  prototype.init = function init(this: ConnectionInternals) {
    connections.set(this.session, this);
    this._setListeners(() =>
      this.connectionReady(() => {
        const first = heldUntilGreeting.get(this);
        heldUntilGreeting.delete(this);
        first?.();
      }),
    );
  };

  const resetSession = prototype._resetSession as Method<'_resetSession'>;
  prototype._resetSession = function resetWithoutRecipientMerging(this: ConnectionInternals) {
    resetSession.call(this);
    this._rcptIndex = NO_RECIPIENT_INDEX;
    // smtp-server resets the session right after answering a message, which is when a deferred close is due.
    const pending = closeAfterMessage.get(this);
    if (pending && !this._dataStream) {
      closeAfterMessage.delete(this);
      closeSession(this.session, pending);
    }
  };

  prototype.handler_NOOP = function noop(this: ConnectionInternals, _command: Buffer, callback: () => void) {
    this.send(250, OK_TEXT);
    callback();
  };

  const onCommand = prototype._onCommand as Method<'_onCommand'>;
  prototype._onCommand = function guardedOnCommand(this: ConnectionInternals, command: Buffer, callback?: () => void) {
    // The stream passes the next command only after this one's callback: one held command holds the rest.
    if (!this._ready && !this._upgrading && callback) {
      heldUntilGreeting.set(this, () => this._onCommand(command, callback));
      return;
    }
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
    if (code === 250 && data === ACCEPTED_TEXT) data = OK_TEXT;
    const socket = this._socket;
    if (socket && !socket.writableCorked) {
      socket.cork();
      process.nextTick(() => socket.uncork());
    }
    send.call(this, code, data, context);
  };

  // smtp-server waits for a STARTTLS handshake as long as for any silence (the idle timeout); a client that stalls
  // the handshake is cut off after the listener's handshakeTimeout instead, as on the TLS-wrapper ports.
  const upgrade = prototype.upgrade as Method<'upgrade'>;
  prototype.upgrade = function upgradeWithDeadline(this: ConnectionInternals, callback: () => void, secureCallback?: () => void) {
    const socket = this._socket;
    upgrade.call(this, callback, secureCallback);
    const timeoutMs = this._server.options.handshakeTimeout;
    if (!timeoutMs) return;
    const timer = setTimeout(() => {
      if (this._upgrading && !socket.destroyed) socket.destroy();
    }, timeoutMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };

  // The TLS-wrapper ports: smtp-server times their handshake with the idle timeout too.
  const serverPrototype = SMTPServer.prototype as unknown as ServerInternals;
  const serverUpgrade = serverPrototype._upgrade;
  serverPrototype._upgrade = function upgradeWithDeadline(this: ServerInternals, socket, callback) {
    const timeoutMs = this.options.handshakeTimeout;
    let settled = false;
    const timer = timeoutMs
      ? setTimeout(() => {
          if (!settled && !socket.destroyed) socket.destroy();
        }, timeoutMs)
      : null;
    timer?.unref();
    serverUpgrade.call(this, socket, (error, tlsSocket) => {
      settled = true;
      if (timer) clearTimeout(timer);
      callback(error, tlsSocket);
    });
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
