import type { Command } from 'commander';
import type { Redis } from 'ioredis';
import { connectRedis } from '../cluster/redis-connection.js';
import { redisReady } from '../cluster/redis-ready.js';
import type { GatewayConfig } from '../config/schema.js';
import { RedisSendStatistics } from '../queue/redis-send-statistics.js';
import type { SendStatisticsStore } from '../queue/send-statistics.js';
import { commandConfig, UsageError, withQueue } from './cli-context.js';

/** How long a command waits for Redis to answer before it gives up. */
const CONNECT_TIMEOUT_MS = 5000;

/** Connection warnings are not for the operator's terminal: a failed connection ends the command with one line instead. */
const quiet = { warn: () => undefined };

/** Runs `action` with a connection to the cluster's Redis (cluster.redisUrl or --redis), closing it afterwards. */
export async function withClusterRedis<T>(command: Command, action: (redis: Redis, config: GatewayConfig & { cluster: { redisUrl: string } }) => Promise<T>): Promise<T> {
  const config = commandConfig(command);
  const url = config.cluster.redisUrl;
  if (url === null) throw new UsageError('this command needs the cluster\'s Redis: set cluster.redisUrl in the configuration or give --redis redis://host:6379');
  const redis = connectRedis(url, quiet, 'relaygate-cli');
  try {
    await redisReady(redis, url, CONNECT_TIMEOUT_MS);
    return await action(redis, { ...config, cluster: { ...config.cluster, redisUrl: url } });
  } finally {
    redis.disconnect();
  }
}

/** Runs `action` with the sending statistics: the fleet's in Redis in cluster mode, else this node's queue database's. */
export async function withSendStatistics<T>(command: Command, action: (statistics: SendStatisticsStore, config: GatewayConfig) => Promise<T>): Promise<T> {
  const config = commandConfig(command);
  if (config.cluster.redisUrl === null) return withQueue(command, (queue) => action(queue.statistics, config));
  return withClusterRedis(command, (redis) => action(new RedisSendStatistics(redis, config.cluster.keyPrefix), config));
}
