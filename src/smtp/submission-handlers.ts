import type { BlockList } from 'node:net';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { AuthenticatedUser, SmtpAuthenticator } from '../auth/smtp-authenticator.js';
import { SmtpReply } from '../common/smtp-reply.js';
import { StoreUnavailableError } from '../common/store-unavailable.js';
import { submitMessage, type SubmissionServices } from '../submission/submit-message.js';
import { asciiAddress, recipientKey } from './ascii-address.js';
import { envelopeCommandVerdict } from './envelope-command.js';
import { Replies } from './replies.js';
import type { SessionGate } from './session-gate.js';
import { SessionLimits } from './session-limits.js';
import { closeSession, type CommandVerdict } from './smtp-server-compat.js';

export interface SubmissionDependencies extends SubmissionServices {
  plaintextNetworks: BlockList;
  authenticator: SmtpAuthenticator;
  gate: SessionGate;
}

type Handlers = Required<Pick<SMTPServerOptions, 'onConnect' | 'onSecure' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose' | 'commandGuard'>>;

const family = (address: string) => (address.includes(':') ? 'ipv6' : 'ipv4');

/** An admitted connection: its client address (counted by the gate) and its session limits. */
interface OpenSession {
  address: string;
  limits: SessionLimits;
}

/** The client left (or was cut off by a limit) before the message was complete: nothing to store, nothing failed. */
const clientLeft = (error: unknown): boolean => ['ECONNECTION', 'ERR_STREAM_PREMATURE_CLOSE'].includes((error as NodeJS.ErrnoException).code ?? '');

/** The submission session's behaviour, shared by every listener. */
export function createSubmissionHandlers(deps: SubmissionDependencies): Handlers {
  const { smtp, log } = deps;
  const sessions = new Map<string, OpenSession>();
  const plaintextAllowed = (address: string) => deps.plaintextNetworks.check(address, family(address));

  const commandGuard = (line: string, session: SMTPServerSession, secure: boolean): CommandVerdict => {
    const verb = /^\S*/.exec(line)?.[0].toUpperCase();
    if (!session.user && verb !== 'AUTH' && verb !== 'QUIT' && !sessions.get(session.id)?.limits.allowCommandBeforeAuth()) {
      log.info({ session: session.id, remoteAddress: session.remoteAddress, limit: 'maxCommandsBeforeAuth' }, 'session closed: limit reached');
      return { reply: Replies.tooManyCommandsBeforeAuth() };
    }
    if ((verb === 'AUTH' || verb === 'MAIL') && !secure && !plaintextAllowed(session.remoteAddress)) return { reply: Replies.starttlsRequired() };
    if (verb === 'MAIL' || verb === 'RCPT') return envelopeCommandVerdict(line);
    // smtp-server's own answer would be "503 Error: need RCPT command"; SES names the problem.
    if (verb === 'DATA' && session.user && session.envelope.rcptTo.length === 0) return { reply: Replies.noRecipients() };
    return undefined;
  };

  const onData = async (stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> => {
    sessions.get(session.id)?.limits.watchData(stream);
    try {
      const envelope = session.envelope;
      const result = await submitMessage(
        deps,
        {
          channel: 'smtp',
          user: session.user as AuthenticatedUser,
          input: stream,
          envelope: () => ({ mailFrom: envelope.mailFrom === false ? '' : envelope.mailFrom.address, recipients: envelope.rcptTo.map((recipient) => recipient.address) }),
          sourceIp: session.remoteAddress,
          secure: session.secure,
          heloName: session.hostNameAppearsAs,
          logContext: { session: session.id },
        },
        { tooLong: new SmtpReply(552, Replies.messageTooLong), headerTooLarge: Replies.headerTooLarge(), contentRefused: Replies.contentRefused },
      );
      if (!result.accepted) throw result.reply;
      return Replies.accepted(result.messageId);
    } catch (error) {
      if (error instanceof SmtpReply) throw error;
      if (clientLeft(error)) log.info({ session: session.id }, 'connection closed before the message was complete');
      else log.error({ err: error, session: session.id }, 'could not store message');
      throw Replies.temporaryServiceFailure();
    }
  };

  return {
    commandGuard,

    onConnect(session, callback) {
      const address = session.remoteAddress;
      deps.gate.admit(address).then(
        (refusal) => {
          if (refusal === 'node') return callback(Replies.tooManyConnections());
          if (refusal === 'address') {
            log.info({ session: session.id, remoteAddress: address }, 'connection refused: too many from this address');
            return callback(Replies.tooManyConnectionsFromAddress());
          }
          const limits = new SessionLimits(smtp, (reply, limit, afterMessage) => {
            log.info({ session: session.id, remoteAddress: address, limit }, 'session closed: limit reached');
            closeSession(session, reply, afterMessage);
          });
          sessions.set(session.id, { address, limits });
          // RFC 4954: do not offer AUTH where it may not be used; onSecure lifts this after STARTTLS.
          if (!session.secure && !plaintextAllowed(session.remoteAddress)) session.disabledCommands = ['AUTH'];
          callback();
        },
        (error: unknown) => {
          log.error({ err: error, session: session.id }, 'connection admission failed');
          callback(Replies.temporaryServiceFailure());
        },
      );
    },

    onSecure(_socket, session, callback) {
      session.disabledCommands = undefined;
      callback();
    },

    onAuth(auth: SMTPServerAuthentication, session, callback) {
      const address = session.remoteAddress;
      const userName = auth.username ?? '';
      const authenticate = async (): Promise<void> => {
        const block = await deps.gate.authBlocked(userName, address);
        if (block) {
          log.warn({ session: session.id, remoteAddress: address, accessKeyId: userName, block }, 'authentication refused: blocked after repeated failures');
          return callback(Replies.authBlocked());
        }
        const result = await deps.authenticator.authenticate(userName, auth.password ?? '');
        if (!result) {
          const { delayMs, blocked } = await deps.gate.authFailed(userName, address);
          log.warn({ session: session.id, remoteAddress: address, accessKeyId: userName, method: auth.method, blocked }, 'authentication failed');
          setTimeout(() => callback(Replies.authenticationInvalid()), delayMs);
          return;
        }
        deps.gate.authSucceeded(userName, address);
        sessions.get(session.id)?.limits.authenticated();
        const user: AuthenticatedUser = { accessKeyId: result.credential.accessKeyId, accountId: result.account.id, userName: result.credential.userName };
        log.info({ session: session.id, remoteAddress: address, accessKeyId: user.accessKeyId, account: user.accountId }, 'authenticated');
        callback(null, { user });
      };
      authenticate().catch((error: unknown) => {
        // SES's reply for "an issue when validating SMTP credentials"; an unreachable cluster store is an expected fault.
        if (error instanceof StoreUnavailableError) log.warn({ session: session.id, remoteAddress: address, accessKeyId: userName, reason: error.message }, 'authentication deferred: store unavailable');
        else log.error({ err: error, session: session.id }, 'credential lookup failed');
        callback(Replies.temporaryAuthenticationFailure());
      });
    },

    onMailFrom(address: SMTPServerAddress, _session, callback) {
      address.address = asciiAddress(address.address);
      callback();
    },

    onRcptTo(address: SMTPServerAddress, session, callback) {
      address.address = asciiAddress(address.address);
      const recipients = session.envelope.rcptTo;
      const key = recipientKey(address.address);
      const known = recipients.findIndex((recipient) => recipientKey(recipient.address) === key);
      if (known === -1 && recipients.length >= smtp.maxRecipients) return callback(Replies.tooManyRecipients());
      // smtp-server appends every recipient let through (see smtp-server-compat): a repeated one replaces the earlier.
      if (known !== -1) recipients.splice(known, 1);
      callback();
    },

    onData(stream, session, callback) {
      onData(stream, session).then(
        (reply) => callback(null, reply),
        (error: SmtpReply) => callback(error),
      );
    },

    onClose(session) {
      // Sessions refused in onConnect were never counted.
      const open = sessions.get(session.id);
      if (!open) return;
      open.limits.stop();
      sessions.delete(session.id);
      deps.gate.release(open.address);
    },
  };
}
