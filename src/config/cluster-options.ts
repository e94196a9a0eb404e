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
   * How long a node's destination connection slots (shaping leases) and its place among the live nodes last without
   * being renewed; it renews them every third of this. A node that dies frees its slots after at most this long.
   */
  leaseSeconds: number;
  /**
   * While Redis is unreachable, how long after it last answered a node still accepts submissions on the credentials,
   * accounts, identities, configuration sets, policies and suppression entries it read before (0: not at all); then
   * it answers `451 4.3.0 Temporary service failure` (HTTP 503) until Redis is back.
   */
  redisGraceSeconds: number;
  /**
   * This node's id (1 to 8 of a-z, 0-9), part of every message id, return path and event id; null: generated once and
   * kept in <dataDir>/node-id.
   */
  nodeId: string | null;
  /** How often the node writes its heartbeat (`relaygate cluster status`); it expires after three intervals. */
  heartbeatMs: number;
}

export function readClusterConfig(reader: OptionReader, redisOverride: string | undefined): ClusterConfig {
  // Read even when --redis overrides it, or the file's option would count as unknown.
  const fromFile = reader.optionalString('redisUrl');
  const redisUrl = redisOverride ?? fromFile;
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(redisOverride !== undefined ? '--redis' : reader.name('redisUrl'), `"${redisUrl}" is not a redis:// or rediss:// URL`);
  const nodeId = reader.optionalString('nodeId');
  if (nodeId !== null && !NODE_ID_PATTERN.test(nodeId)) throw new ConfigError(reader.name('nodeId'), `"${nodeId}" is not a node id: 1 to 8 lower-case letters and digits`);
  const config = { redisUrl, keyPrefix: reader.string('keyPrefix', 'relaygate:'), leaseSeconds: reader.integer('leaseSeconds', 30, 3, 3600), redisGraceSeconds: reader.integer('redisGraceSeconds', 30, 0, 3600), nodeId, heartbeatMs: reader.integer('heartbeatMs', 5000, 100, 60_000) };
  reader.rejectUnknown();
  return config;
}
