import { randomUUID } from 'node:crypto';
import { NODE_ID_PATTERN } from '../config/cluster-options.js';

/**
 * Ids name the node that made them. A node id (1 to 8 characters of [a-z0-9], config/cluster-options.ts) is packed
 * into the last group of the UUID part of the hexadecimal ids, 48 bits: six bits per character (its position in
 * 0-9a-z, plus one), zeros after the last. The rest of the UUID (74 random bits) keeps ids unique.
 */
const NODE_ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';
const NODE_CHARACTERS = 8;
/** The last group of a UUID, alone or followed by the message id's `-000000`. */
const NODE_GROUP = /-([0-9a-f]{12})(?:-000000)?$/;

/** `node` packed into the 12 hexadecimal digits of a UUID's last group. */
export function nodeGroup(node: string): string {
  if (!NODE_ID_PATTERN.test(node)) throw new Error(`"${node}" is not a node id (1 to 8 of a-z and 0-9)`);
  let value = 0;
  for (let index = 0; index < NODE_CHARACTERS; index++) value = value * 64 + (index < node.length ? NODE_ALPHABET.indexOf(node[index]!) + 1 : 0);
  return value.toString(16).padStart(12, '0');
}

/** The node that made a message id or event id, or null when its last group does not hold one (an id made before nodes had ids may still decode to one). */
export function nodeOfId(id: string): string | null {
  const group = NODE_GROUP.exec(id)?.[1];
  if (!group) return null;
  let value = parseInt(group, 16);
  const codes: number[] = [];
  for (let index = 0; index < NODE_CHARACTERS; index++, value = Math.floor(value / 64)) codes.unshift(value % 64);
  const length = codes.indexOf(0) < 0 ? NODE_CHARACTERS : codes.indexOf(0);
  if (length === 0 || codes.slice(length).some((code) => code !== 0) || codes.some((code) => code > NODE_ALPHABET.length)) return null;
  return codes.slice(0, length).map((code) => NODE_ALPHABET[code - 1]).join('');
}

/** A random UUID (version 4) whose last group is `group`. */
const uuidWithGroup = (group: string): string => `${randomUUID().slice(0, 24)}${group}`;

/** The first group of a message id: a version prefix and the time in milliseconds, so that ids sort by time. */
export const messageIdTimePrefix = (at: number): string => `0100${at.toString(16).padStart(12, '0')}`;

const messageIdWithGroup = (group: string, now: number): string => `${messageIdTimePrefix(now)}-${uuidWithGroup(group)}-000000`;

/**
 * A message id in SES's shape, `<16 hex>-<uuid>-000000`: the first group is a version prefix and the acceptance time
 * in milliseconds, so ids sort by time; the UUID's last group names the accepting node.
 */
export function generateMessageId(node: string, now: number = Date.now()): string {
  return messageIdWithGroup(nodeGroup(node), now);
}

/**
 * The last group of ids about a message: the node group of the message's id, so every id about a message names the
 * node that holds it. A message id of another form (ids of tests) gives zeros, which name no node.
 */
export const nodeGroupOf = (messageId: string): string => NODE_GROUP.exec(messageId)?.[1] ?? '000000000000';

/** An event id about `messageId`: a random UUID naming the message's node. */
export const eventIdFor = (messageId: string): string => uuidWithGroup(nodeGroupOf(messageId));

/** A feedback id (SES's feedbackId, in the message id form) about `messageId`, at `now`, naming the message's node. */
export const feedbackIdFor = (messageId: string, now: number): string => messageIdWithGroup(nodeGroupOf(messageId), now);

export const MESSAGE_ID_PATTERN = /^[0-9a-f]{16}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-000000$/;
