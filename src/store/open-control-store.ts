import type { Logger } from 'pino';
import { connectRedis } from '../cluster/redis-connection.js';
import { redisReady } from '../cluster/redis-ready.js';
import type { ClusterConfig } from '../config/cluster-options.js';
import type { ControlStore } from './control-store.js';
import { RedisControlStore } from './redis/redis-control-store.js';
import { SqliteControlStore } from './sqlite/sqlite-control-store.js';

/** How long a starting node or a command waits for the cluster's Redis before it gives up. */
const REDIS_CONNECT_TIMEOUT_MS = 10_000;

/** The control store the configuration names: the cluster's Redis when cluster.redisUrl is set, else control.db in the data directory. */
export async function openControlStore(config: { dataDir: string; cluster: ClusterConfig }, log: Pick<Logger, 'warn'>): Promise<ControlStore> {
  const { redisUrl, keyPrefix } = config.cluster;
  return redisUrl === null ? SqliteControlStore.open(config.dataDir) : openRedisControlStore(redisUrl, keyPrefix, log);
}

/** Connects to the cluster's Redis and waits until it answers (RedisUnavailableError otherwise). */
export async function openRedisControlStore(url: string, keyPrefix: string, log: Pick<Logger, 'warn'>): Promise<RedisControlStore> {
  const redis = connectRedis(url, log, 'relaygate-control');
  try {
    await redisReady(redis, url, REDIS_CONNECT_TIMEOUT_MS);
  } catch (error) {
    redis.disconnect();
    throw error;
  }
  return new RedisControlStore(redis, keyPrefix);
}
