import type { Logger } from 'pino';
import { signMessage, type DkimSigner } from '../message/dkim/index.js';
import { fromDomain } from '../message/from-domain.js';
import { messageParts } from '../queue/message-content.js';
import type { Spool } from '../queue/spool.js';

/** The keys that sign a message whose From identity belongs to `identityAccountId`, for its From domain (null: none). */
export type DkimSignersFor = (identityAccountId: string, fromDomain: string | null) => Promise<DkimSigner[]>;

/**
 * The DKIM-Signature fields of an accepted message, made where it was received (a session worker, on any core) rather
 * than by the delivery engine; empty when no key signs. On failure (a key that no longer loads) the message is
 * accepted unsigned and the delivery engine signs it, or reports why it cannot.
 */
export async function acceptanceSignature(
  signersFor: DkimSignersFor,
  message: { header: Buffer; body: Buffer | null; bodyFile: string; identityAccountId: string },
  spool: Spool,
  log: Logger,
): Promise<Buffer | null> {
  try {
    const signers = await signersFor(message.identityAccountId, fromDomain(message.header));
    if (signers.length === 0) return Buffer.alloc(0);
    return Buffer.from(await signMessage(messageParts(spool, message), signers), 'latin1');
  } catch (error) {
    log.warn({ err: error }, 'DKIM signing at acceptance failed; the delivery engine signs the message');
    return null;
  }
}
