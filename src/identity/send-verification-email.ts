import type { Logger } from 'pino';
import { nodeIdOf } from '../config/node-id.js';
import type { GatewayConfig } from '../config/schema.js';
import { generateMessageId } from '../message/message-id.js';
import { systemMessage } from '../queue/queued-message.js';
import { MessageAcceptor } from '../queue/message-acceptor.js';
import { touchQueueWakeup } from '../queue/queue-wakeup.js';
import { Spool } from '../queue/spool.js';
import { SqliteQueueStore } from '../queue/sqlite-queue-store.js';
import type { Identity } from '../store/identities.js';
import { verificationEmail } from './verification-email.js';

/**
 * Puts an email identity's verification message in this node's queue, as if it had been submitted, and wakes a
 * running gateway to deliver it through the outbound path. Returns the message id.
 */
export async function queueVerificationEmail(config: GatewayConfig, identity: Identity, log: Logger, now = new Date()): Promise<string> {
  const email = verificationEmail(identity, config.region, config.smtp.hostname, now);
  const id = generateMessageId(nodeIdOf(config), now.getTime());
  const header = Buffer.from(`${email.header}Message-ID: <${id}@${config.smtp.messageIdDomain}>\r\n`, 'latin1');
  const body = Buffer.from(email.body, 'latin1');
  const queue = SqliteQueueStore.open(config.dataDir);
  try {
    const message = systemMessage({
      id,
      accountId: identity.accountId,
      mailFrom: email.mailFrom,
      recipient: email.recipient,
      header,
      body,
      receivedAt: now,
      hostname: config.smtp.hostname,
      kind: 'identity-verification',
    });
    await new MessageAcceptor(new Spool(config.dataDir), queue, log).accept(message, null);
  } finally {
    queue.close();
  }
  touchQueueWakeup(config.dataDir);
  return id;
}
