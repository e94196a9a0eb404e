import type { Redis } from 'ioredis';
import { raisingStoreUnavailable } from '../../cluster/redis-unavailable.js';
import type { ControlStore } from '../control-store.js';
import { ControlKeys } from './control-keys.js';
import { defineControlScripts } from './control-scripts.js';
import { RedisAccountStore } from './redis-account-store.js';
import { RedisConfigurationSetStore } from './redis-configuration-set-store.js';
import { RedisCredentialStore } from './redis-credential-store.js';
import { RedisIdentityStore } from './redis-identity-store.js';
import { RedisPolicyStore } from './redis-policy-store.js';
import { RedisSuppressionStore } from './redis-suppression-store.js';

/** What an outage names in logs and errors. */
const CONTROL_STORE = 'control store';

/** Keys per SCAN step when looking for or clearing the control plane. */
const SCAN_COUNT = 1000;

/** Glob characters in the prefix match only themselves. */
const globEscaped = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/**
 * The control plane in the cluster's Redis (key layout: control-keys.ts). It owns the connection and closes it.
 * Meant for one Redis primary (with replicas or Sentinel), not a sharded Redis Cluster: scripts touch keys of several
 * records at once.
 */
export class RedisControlStore implements ControlStore {
  readonly accounts: RedisAccountStore;
  readonly credentials: RedisCredentialStore;
  readonly identities: RedisIdentityStore;
  readonly configurationSets: RedisConfigurationSetStore;
  readonly policies: RedisPolicyStore;
  readonly suppression: RedisSuppressionStore;
  private readonly keys: ControlKeys;

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
  ) {
    defineControlScripts(redis);
    this.keys = new ControlKeys(keyPrefix);
    // Every call is a Redis round trip: an unreachable Redis is StoreUnavailableError, which the cached store answers.
    const reachable = <T extends object>(store: T) => raisingStoreUnavailable(CONTROL_STORE, store);
    this.accounts = reachable(new RedisAccountStore(redis, this.keys));
    this.credentials = reachable(new RedisCredentialStore(redis, this.keys));
    this.identities = reachable(new RedisIdentityStore(redis, this.keys));
    this.configurationSets = reachable(new RedisConfigurationSetStore(redis, this.keys));
    this.policies = reachable(new RedisPolicyStore(redis, this.keys));
    this.suppression = reachable(new RedisSuppressionStore(redis, this.keys));
  }

  /** Whether any control-plane key exists under the prefix. */
  async holdsData(): Promise<boolean> {
    let found = false;
    await this.scanControlKeys(async (keys) => (found = keys.length > 0));
    return found;
  }

  /** Deletes every control-plane key under the prefix (nothing else); returns how many. */
  async clear(): Promise<number> {
    let deleted = 0;
    await this.scanControlKeys(async (keys) => {
      if (keys.length > 0) deleted += await this.redis.unlink(...keys);
      return false;
    });
    return deleted;
  }

  /** Visits the control-plane keys a SCAN step at a time, until the scan ends or `visit` returns true. */
  private async scanControlKeys(visit: (keys: string[]) => Promise<boolean>): Promise<void> {
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${globEscaped(this.keys.root)}*`, 'COUNT', SCAN_COUNT);
      if (await visit(keys)) return;
      cursor = next;
    } while (cursor !== '0');
  }

  async close(): Promise<void> {
    try {
      await this.redis.quit();
    } catch {
      // Redis is away: drop the connection without the goodbye.
      this.redis.disconnect();
    }
  }
}
