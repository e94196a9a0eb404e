import { ConfigError } from './config-error.js';
import type { OptionReader } from './option-reader.js';

/** A node id: short, and safe in local parts, hexadecimal ids (message/message-id.ts) and Redis keys. */
export const NODE_ID_PATTERN = /^[a-z0-9]{1,8}$/;

/** Cluster mode: several nodes share one Redis for the control plane, limits, shaping and events. */
export interface ClusterConfig {
  /** redis://[:password@]host:port/db (or rediss://); null runs the node alone on its embedded SQLite stores. */
  redisUrl: string | null;
  /** Prefix of every key the gateway writes, so that several fleets (or tests) can share one Redis. */
  keyPrefix: string;
  /**
   * This node's id (1 to 8 of a-z, 0-9), part of every message id, return path and event id; null: generated once and
   * kept in <dataDir>/node-id.
   */
  nodeId: string | null;
  /** How often the node writes its heartbeat (`relaygate cluster status`); it expires after three intervals. */
  heartbeatMs: number;
}

export function readClusterConfig(reader: OptionReader, redisOverride: string | undefined): ClusterConfig {
  const redisUrl = redisOverride ?? reader.optionalString('redisUrl');
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(redisOverride !== undefined ? '--redis' : reader.name('redisUrl'), `"${redisUrl}" is not a redis:// or rediss:// URL`);
  const nodeId = reader.optionalString('nodeId');
  if (nodeId !== null && !NODE_ID_PATTERN.test(nodeId)) throw new ConfigError(reader.name('nodeId'), `"${nodeId}" is not a node id: 1 to 8 lower-case letters and digits`);
  const config = { redisUrl, keyPrefix: reader.string('keyPrefix', 'relaygate:'), nodeId, heartbeatMs: reader.integer('heartbeatMs', 5000, 100, 60_000) };
  reader.rejectUnknown();
  return config;
}
