import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import type { Logger } from 'pino';
import { SmtpReply } from '../common/smtp-reply.js';
import type { FeedbackTarget } from '../feedback/intake/feedback-events.js';
import type { FeedbackIntake } from '../feedback/intake/feedback-intake.js';
import { asciiAddress } from './ascii-address.js';
import { envelopeCommandVerdict } from './envelope-command.js';
import { IntakeReplies } from './intake-replies.js';
import { Replies } from './replies.js';
import type { createSubmissionHandlers } from './submission-handlers.js';

type Handlers = ReturnType<typeof createSubmissionHandlers>;

export interface IntakeHandlerDependencies {
  intake: FeedbackIntake;
  maxMessageBytes: number;
  log: Logger;
}

// RFC 5321 source routes (`<@relay:user@host>`): smtp-server drops the route, so the raw command is the only place to see one.
// One class for the spaces and the bracket: `\s*<?\s*` backtracked quadratically on a 16 KB line of spaces.
const SOURCE_ROUTE = /^RCPT\s+TO\s*:[\s<]*@/i;

class MessageTooLarge extends Error {}

/** The whole message; rejects with MessageTooLarge past `maxBytes` (after draining the stream). */
function readWhole(stream: SMTPServerDataStream, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    stream.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
    });
    stream.once('error', reject);
    stream.once('end', () => (size > maxBytes ? reject(new MessageTooLarge()) : resolve(Buffer.concat(chunks, size))));
  });
}

/**
 * The session of an intake listener: authenticated sessions are submission sessions, unchanged. Without
 * authentication (and, as MTAs sending bounces may not use STARTTLS, without TLS) MAIL is allowed, but RCPT only to
 * return paths the gateway issued at its feedback domains, and DATA becomes feedback (feedback/intake).
 */
export function createIntakeHandlers(submission: Handlers, deps: IntakeHandlerDependencies): Handlers {
  const { intake, log } = deps;
  // What each accepted RCPT named (a delivery here, or another node), keyed by the address object smtp-server keeps in the envelope.
  const destinations = new WeakMap<SMTPServerAddress, { target: FeedbackTarget } | { node: string; recipient: string }>();

  const receive = async (stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> => {
    const envelope = session.envelope;
    try {
      // Handed over while it arrives, so feedback committing meanwhile waits for it.
      const raw = readWhole(stream, deps.maxMessageBytes);
      const outcome = await intake.receive(
        {
          mailFrom: envelope.mailFrom === false ? '' : envelope.mailFrom.address,
          recipients: envelope.rcptTo.map((recipient) => recipient.address),
          remoteAddress: session.remoteAddress,
          targets: envelope.rcptTo.flatMap((recipient) => {
            const destination = destinations.get(recipient);
            return destination && 'target' in destination ? [destination.target] : [];
          }),
          routed: envelope.rcptTo.flatMap((recipient) => {
            const destination = destinations.get(recipient);
            return destination && 'node' in destination ? [destination] : [];
          }),
        },
        raw,
      );
      return IntakeReplies.outcome(outcome);
    } catch (error) {
      if (error instanceof MessageTooLarge) throw new SmtpReply(552, Replies.messageTooLong);
      log.error({ err: error, session: session.id }, 'could not apply feedback');
      throw Replies.temporaryServiceFailure();
    }
  };

  return {
    ...submission,

    commandGuard(line, session, secure) {
      if (!session.user) {
        const verb = /^\S*/.exec(line)?.[0].toUpperCase();
        if (verb === 'RCPT' && SOURCE_ROUTE.test(line)) {
          intake.refused('relay', line.slice(line.indexOf(':') + 1).trim(), session.remoteAddress);
          return { reply: IntakeReplies.relayDenied() };
        }
        // A reporting MTA's transactions need no AUTH: they do not count toward smtp.maxCommandsBeforeAuth (every
        // recipient is checked against the return paths the gateway issued; the idle and session limits still apply).
        if (verb === 'MAIL' || verb === 'RCPT') return envelopeCommandVerdict(line);
        if (verb === 'DATA' || verb === 'RSET') return undefined;
      }
      return submission.commandGuard(line, session, secure);
    },

    onRcptTo(address, session, callback) {
      if (session.user) return submission.onRcptTo(address, session, callback);
      const recipient = asciiAddress(address.address);
      intake.checkRecipient(recipient).then(
        (verdict) => {
          if (verdict.accepted) {
            destinations.set(address, 'node' in verdict ? { node: verdict.node, recipient } : verdict);
            return submission.onRcptTo(address, session, callback);
          }
          intake.refused(verdict.refusal, recipient, session.remoteAddress);
          callback(IntakeReplies.refusal(verdict.refusal));
        },
        (error: unknown) => {
          log.error({ err: error, session: session.id }, 'feedback recipient check failed');
          callback(Replies.temporaryServiceFailure());
        },
      );
    },

    onData(stream, session, callback) {
      if (session.user) return submission.onData(stream, session, callback);
      receive(stream, session).then(
        (reply) => callback(null, reply),
        (error: SmtpReply) => callback(error),
      );
    },
  };
}
