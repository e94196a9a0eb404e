import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { cachedControlStore, type CachedControlStore } from '../store/cached-control-store.js';
import type { ControlStore } from '../store/control-store.js';
import { openControlStore } from '../store/open-control-store.js';

/**
 * The control store a gateway process uses: control.db alone, or in cluster mode the shared Redis store with its reads
 * cached, standing in for it while Redis is unreachable (README: Cluster mode: Redis outages).
 */
export async function openNodeControlStore(config: GatewayConfig, log: Logger): Promise<{ store: ControlStore; cached: CachedControlStore | null }> {
  const opened = await openControlStore(config, log);
  const cached = config.cluster.redisUrl ? cachedControlStore(opened, { graceMs: config.cluster.redisGraceSeconds * 1000, log }) : null;
  return { store: cached ?? opened, cached };
}
