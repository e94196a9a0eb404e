import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The envelope sender (return path) of delivered mail: `b-<node>-<delivery id>-<tag>@<feedback domain>`. The node is
 * the id of the node whose queue holds the delivery (config/cluster-options.ts), the delivery id is the queue row (base
 * 36) of the transaction's first recipient and the tag is 64 bits of HMAC-SHA256(key, "<node>:<delivery id>:<message
 * id>") in base 36. A bounce that comes back to it, at any node of a cluster, names the node and a delivery of its
 * queue, hence the message; for a transaction with several recipients the DSN's Final-Recipient says which one failed
 * (as with SES, whose return path names the message). The tag stops forged bounces and ties the address to its node and
 * message, so a row id reused after `queue delete` cannot be mistaken for the old one. Only lower-case letters, digits
 * and '-' are used: MTAs that fold the case of local parts keep it intact.
 *
 * Mail sent before return paths named their node has `b-<delivery id>-<tag>`, tag over "<delivery id>:<message id>":
 * still parsed (node null), for the late bounces of that mail.
 */
const LOCAL_PART = /^b-(?:([0-9a-z]{1,8})-)?([0-9a-z]{1,11})-([0-9a-z]{13})$/;

export interface ParsedReturnPath {
  /** The node that sent the mail; null in a return path of the form without one (this node's, from before). */
  node: string | null;
  deliveryId: number;
  tag: string;
  domain: string;
}

function returnPathTag(node: string | null, deliveryId: number, messageId: string, key: Buffer): string {
  const digest = createHmac('sha256', key).update(`${node === null ? '' : `${node}:`}${deliveryId}:${messageId}`).digest();
  return digest.readBigUInt64BE(0).toString(36).padStart(13, '0');
}

export function formatReturnPath(node: string, deliveryId: number, messageId: string, domain: string, key: Buffer): string {
  return `b-${node}-${deliveryId.toString(36)}-${returnPathTag(node, deliveryId, messageId, key)}@${domain}`;
}

/** The parts of a return-path address, or null when it is not one. The tag still has to be checked against the message. */
export function parseReturnPath(address: string): ParsedReturnPath | null {
  const at = address.lastIndexOf('@');
  if (at < 0) return null;
  const match = LOCAL_PART.exec(address.slice(0, at).toLowerCase());
  if (!match) return null;
  return { node: match[1] ?? null, deliveryId: parseInt(match[2]!, 36), tag: match[3]!, domain: address.slice(at + 1).toLowerCase() };
}

/** Whether the parsed address was made for `messageId` with this key. */
export function returnPathMatches(parsed: ParsedReturnPath, messageId: string, key: Buffer): boolean {
  return timingSafeEqual(Buffer.from(parsed.tag), Buffer.from(returnPathTag(parsed.node, parsed.deliveryId, messageId, key)));
}
