import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { cachedControlStore, type CachedControlStore } from '../store/cached-control-store.js';
import type { ControlStore } from '../store/control-store.js';
import { openRedisControlStore } from '../store/open-control-store.js';
import { SqliteControlStore } from '../store/sqlite/sqlite-control-store.js';

/**
 * The control store a gateway process uses, its reads of the submission and delivery paths cached: control.db, read
 * again whenever another connection committed to it (so a CLI change takes effect at the next message); or in cluster
 * mode the shared Redis store, read again after a while and standing in for it while Redis is unreachable (README:
 * Cluster mode: Redis outages).
 */
export async function openNodeControlStore(config: GatewayConfig, log: Logger): Promise<{ store: ControlStore; cached: CachedControlStore | null }> {
  const { redisUrl, keyPrefix } = config.cluster;
  if (redisUrl === null) {
    const sqlite = SqliteControlStore.open(config.dataDir);
    return { store: cachedControlStore(sqlite, { graceMs: 0, freshMs: Number.POSITIVE_INFINITY, changedElsewhere: () => sqlite.changedElsewhere() }), cached: null };
  }
  const cached = cachedControlStore(await openRedisControlStore(redisUrl, keyPrefix, log), { graceMs: config.cluster.redisGraceSeconds * 1000, log });
  return { store: cached, cached };
}
