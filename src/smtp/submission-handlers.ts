import type { BlockList } from 'node:net';
import type { SMTPServerAddress, SMTPServerAuthentication, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import type { AuthenticatedUser, SmtpAuthenticator } from '../auth/smtp-authenticator.js';
import { SmtpReply } from '../common/smtp-reply.js';
import type { SmtpConfig } from '../config/schema.js';
import { generateMessageId } from '../message/message-id.js';
import { readMessage } from '../message/message-reader.js';
import { formatRfc5322Date } from '../message/rfc5322-date.js';
import { readSesControlHeaders } from '../message/ses-headers.js';
import { composeStoredHeader } from '../message/stored-header.js';
import type { SendPolicy } from '../policy/send-policy.js';
import { BodySink } from '../queue/body-sink.js';
import type { MessageAcceptor } from '../queue/message-acceptor.js';
import type { Spool } from '../queue/spool.js';
import { asciiAddress } from './ascii-address.js';
import type { AuthThrottle } from './auth-throttle.js';
import { envelopeCommandVerdict } from './envelope-command.js';
import { openReceived, transportEncoded } from './received-message.js';
import { Replies } from './replies.js';
import type { CommandVerdict } from './smtp-server-compat.js';

export interface SubmissionDependencies {
  smtp: SmtpConfig;
  plaintextNetworks: BlockList;
  authenticator: SmtpAuthenticator;
  throttle: AuthThrottle;
  policy: SendPolicy;
  spool: Spool;
  acceptor: MessageAcceptor;
  log: Logger;
}

type Handlers = Required<Pick<SMTPServerOptions, 'onConnect' | 'onSecure' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData' | 'onClose' | 'commandGuard'>>;

const MAX_HEADER_BYTES = 1024 * 1024;

const family = (address: string) => (address.includes(':') ? 'ipv6' : 'ipv4');

/** The submission session's behaviour, shared by every listener. */
export function createSubmissionHandlers(deps: SubmissionDependencies): Handlers & { activeSessions(): number } {
  const { smtp, log } = deps;
  const sessions = new Set<string>();
  const plaintextAllowed = (address: string) => deps.plaintextNetworks.check(address, family(address));

  const commandGuard = (line: string, session: SMTPServerSession, secure: boolean): CommandVerdict => {
    const verb = /^\S*/.exec(line)?.[0].toUpperCase();
    if ((verb === 'AUTH' || verb === 'MAIL') && !secure && !plaintextAllowed(session.remoteAddress)) return { reply: Replies.starttlsRequired() };
    if (verb === 'MAIL' || verb === 'RCPT') return envelopeCommandVerdict(line);
    return undefined;
  };

  const onData = async (stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> => {
    const user = session.user as AuthenticatedUser;
    const receivedAt = new Date();
    const messageId = generateMessageId(receivedAt.getTime());
    let body = new BodySink(deps.spool, messageId, receivedAt);
    let stored = false;
    try {
      const limits = { maxBytes: smtp.maxMessageBytes, maxHeaderBytes: Math.min(MAX_HEADER_BYTES, smtp.maxMessageBytes) };
      const received = await readMessage(stream, body, limits);
      if (received.tooLarge) throw new SmtpReply(552, Replies.messageTooLong);
      if (received.headerTooLarge) throw Replies.headerTooLarge();
      let message = received;
      // 8-bit data and long lines are re-encoded now, before the one DKIM signature, so every hop gets the same bytes.
      if (!received.problem && received.needsTransportEncoding) ({ message, body } = await transportEncoded(deps.spool, { message, body }, { messageId, receivedAt, limits }));
      if (message.problem) throw Replies.contentRefused(message.problem);
      const envelope = session.envelope;
      const mailFrom = envelope.mailFrom === false ? '' : envelope.mailFrom.address;
      const recipients = envelope.rcptTo.map((recipient) => recipient.address);
      const ses = readSesControlHeaders(message.headers);
      const decision = await deps.policy.evaluate({
        user,
        mailFrom,
        recipients,
        headers: message.headers,
        ses,
        sourceIp: session.remoteAddress,
        secure: session.secure,
        size: message.size,
        now: receivedAt,
        openMessage: () => openReceived(deps.spool, message, body),
      });
      if (!decision.accepted) {
        log.info({ session: session.id, step: decision.step, reply: decision.reply.toString() }, 'message refused by policy');
        throw decision.reply;
      }
      const header = Buffer.from(composeStoredHeader(message.headers, `<${messageId}@${smtp.messageIdDomain}>`, formatRfc5322Date(receivedAt)), 'latin1');
      await deps.acceptor.accept(
        {
          id: messageId,
          accountId: user.accountId,
          accessKeyId: user.accessKeyId,
          mailFrom,
          recipients,
          header,
          body: body.inline,
          bodyFile: body.file?.name ?? '',
          size: header.length + 2 + message.bodyBytes,
          receivedAt,
          metadata: {
            sourceIp: session.remoteAddress,
            tls: session.secure,
            heloName: session.hostNameAppearsAs,
            ses,
            configurationSet: decision.configurationSet,
            tags: decision.tags,
          },
        },
        body.file,
      );
      stored = true;
      log.info({ session: session.id, messageId, account: user.accountId, recipients: recipients.length, size: message.size, bareLineEndings: received.bareLineEndings, reencoded: message !== received }, 'message accepted');
      return Replies.accepted(messageId);
    } catch (error) {
      if (error instanceof SmtpReply) throw error;
      log.error({ err: error, session: session.id }, 'could not store message');
      throw Replies.temporaryServiceFailure();
    } finally {
      const file = body.file;
      if (!stored && file) await deps.spool.discard(file).catch((error: unknown) => log.warn({ err: error, file: file.name }, 'could not remove unaccepted body file'));
    }
  };

  return {
    commandGuard,
    activeSessions: () => sessions.size,

    onConnect(session, callback) {
      if (sessions.size >= smtp.maxConnections) return callback(Replies.tooManyConnections());
      sessions.add(session.id);
      // RFC 4954: do not offer AUTH where it may not be used; onSecure lifts this after STARTTLS.
      if (!session.secure && !plaintextAllowed(session.remoteAddress)) session.disabledCommands = ['AUTH'];
      callback();
    },

    onSecure(_socket, session, callback) {
      session.disabledCommands = undefined;
      callback();
    },

    onAuth(auth: SMTPServerAuthentication, session, callback) {
      const address = session.remoteAddress;
      if (deps.throttle.isBlocked(address)) {
        log.warn({ session: session.id, remoteAddress: address }, 'authentication refused: address blocked after repeated failures');
        return callback(Replies.authBlocked());
      }
      deps.authenticator.authenticate(auth.username ?? '', auth.password ?? '').then(
        (result) => {
          if (!result) {
            const { delayMs, blocked } = deps.throttle.recordFailure(address);
            log.warn({ session: session.id, remoteAddress: address, accessKeyId: auth.username, method: auth.method, blocked }, 'authentication failed');
            setTimeout(() => callback(Replies.authenticationInvalid()), delayMs);
            return;
          }
          deps.throttle.recordSuccess(address);
          const user: AuthenticatedUser = { accessKeyId: result.credential.accessKeyId, accountId: result.account.id, userName: result.credential.userName };
          log.info({ session: session.id, remoteAddress: address, accessKeyId: user.accessKeyId, account: user.accountId }, 'authenticated');
          callback(null, { user });
        },
        (error: unknown) => {
          log.error({ err: error, session: session.id }, 'credential lookup failed');
          callback(new SmtpReply(454, 'Temporary authentication failure'));
        },
      );
    },

    onMailFrom(address: SMTPServerAddress, _session, callback) {
      address.address = asciiAddress(address.address);
      callback();
    },

    onRcptTo(address: SMTPServerAddress, session, callback) {
      address.address = asciiAddress(address.address);
      const known = session.envelope.rcptTo.some((recipient) => recipient.address.toLowerCase() === address.address.toLowerCase());
      if (!known && session.envelope.rcptTo.length >= smtp.maxRecipients) return callback(Replies.tooManyRecipients());
      callback();
    },

    onData(stream, session, callback) {
      onData(stream, session).then(
        (reply) => callback(null, reply),
        (error: SmtpReply) => callback(error),
      );
    },

    onClose(session) {
      sessions.delete(session.id);
    },
  };
}
