import { ConfigError } from './config-error.js';
import type { OptionReader } from './option-reader.js';

/** Cluster mode: several nodes share one Redis for the control plane, limits, shaping and events. */
export interface ClusterConfig {
  /** redis://[:password@]host:port/db (or rediss://); null runs the node alone on its embedded SQLite stores. */
  redisUrl: string | null;
  /** Prefix of every key the gateway writes, so that several fleets (or tests) can share one Redis. */
  keyPrefix: string;
}

export function readClusterConfig(reader: OptionReader, redisOverride: string | undefined): ClusterConfig {
  const redisUrl = redisOverride ?? reader.optionalString('redisUrl');
  if (redisUrl !== null && !/^rediss?:\/\//.test(redisUrl)) throw new ConfigError(redisOverride !== undefined ? '--redis' : reader.name('redisUrl'), `"${redisUrl}" is not a redis:// or rediss:// URL`);
  const config = { redisUrl, keyPrefix: reader.string('keyPrefix', 'relaygate:') };
  reader.rejectUnknown();
  return config;
}
