import { join } from 'node:path';
import type { Logger } from 'pino';
import { connectRedis } from '../cluster/redis-connection.js';
import type { GatewayConfig } from '../config/schema.js';
import { GraceSendLimiter } from './grace-send-limiter.js';
import { RedisSendLimiter } from './redis-send-limiter.js';
import { SqliteSendLimiter } from './sqlite-send-limiter.js';
import type { SendLimiter } from './send-limiter.js';

/**
 * The send-rate and quota counters (shared by the gateway and `relaygate quota`): in cluster mode those of the whole
 * fleet, in Redis on the server's clock, with cluster.redisGraceSeconds in which this node decides alone on its share of
 * the rate (`nodes`: the nodes last seen alive); otherwise the node's own, in <dataDir>/limits.db.
 */
export function openSendLimiter(config: Pick<GatewayConfig, 'dataDir' | 'cluster'>, log: Pick<Logger, 'warn'>, nodes: () => number = () => 1): SendLimiter {
  const { redisUrl, keyPrefix, redisGraceSeconds } = config.cluster;
  if (redisUrl === null) return new SqliteSendLimiter(join(config.dataDir, 'limits.db'));
  const fleet = new RedisSendLimiter(connectRedis(redisUrl, log, 'relaygate-send-limits'), { keyPrefix, ownsConnection: true });
  return new GraceSendLimiter(fleet, { graceMs: redisGraceSeconds * 1000, nodes });
}
