import type { Logger } from 'pino';
import { CacheWithGrace, StoreContact } from './cache-with-grace.js';
import type { ControlStore } from './control-store.js';

/**
 * How long a value read from the shared control store is reused before it is read again: a change made on any node
 * (an auto-pause, a revoked credential, a new suppression entry) takes effect on every node within this time.
 */
export const CACHE_FRESH_MS = 2000;

type SubStores = Omit<ControlStore, 'close'>;

/**
 * What the cache does with a method: `cached` reads are reused for CACHE_FRESH_MS and stand in for the store while it
 * is unreachable (the reads of the submission and delivery paths); `read`s (listings, management look-ups) and
 * `write`s go to the store every time, and a write makes every cached read due again.
 */
type MethodKind = 'cached' | 'read' | 'write';

/** Every method of every sub-store, classified: a method added to an interface does not compile until it is here. */
const METHOD_KINDS: { [Name in keyof SubStores]: Record<keyof SubStores[Name], MethodKind> } = {
  accounts: { get: 'cached', list: 'read', create: 'write', update: 'write' },
  credentials: { get: 'cached', list: 'read', create: 'write', revoke: 'write' },
  identities: { get: 'cached', findByNames: 'cached', list: 'read', create: 'write', update: 'write', delete: 'write' },
  configurationSets: { get: 'cached', list: 'read', create: 'write', update: 'write', delete: 'write' },
  policies: { list: 'cached', get: 'read', targets: 'read', put: 'write', delete: 'write' },
  suppression: { suppressed: 'cached', reasons: 'cached', get: 'read', list: 'read', put: 'write', delete: 'write', setReasons: 'write' },
};

export interface CachedControlStoreOptions {
  /** How long after the store last answered cached values may stand in for it (cluster.redisGraceSeconds); 0: never. */
  graceMs: number;
  freshMs?: number;
  /**
   * Asked before every cached read: whether another writer changed the store since it was last asked (control.db's
   * data_version). When it says so, every cached read is due again; a store that can tell may be cached without a
   * time limit (freshMs Infinity).
   */
  changedElsewhere?: () => boolean;
  now?: () => number;
  /** Told when the store becomes unreachable and when it answers again. */
  log?: Pick<Logger, 'warn' | 'info'>;
}

export interface CachedControlStore extends ControlStore {
  /** A view with the same cache and contact but another grace: delivery of accepted mail uses the last values however old. */
  withGrace(graceMs: number): ControlStore;
}

type AsyncMethod = (...args: unknown[]) => Promise<unknown>;

/** The caches of one sub-store's cached methods, shared by every view. */
class SubStoreCaches {
  readonly byMethod = new Map<string, CacheWithGrace<unknown>>();

  constructor(kinds: Record<string, MethodKind>, contact: StoreContact, freshMs: number) {
    for (const [method, kind] of Object.entries(kinds)) if (kind === 'cached') this.byMethod.set(method, new CacheWithGrace(contact, freshMs));
  }

  expireAll(): void {
    for (const cache of this.byMethod.values()) cache.expireAll();
  }
}

/** What a sub-store's methods share with the others: the contact, and the expiry of every cache. */
interface Shared {
  contact: StoreContact;
  /** Every sub-store's cached reads due again (a write to one may change another's rows: deletes cascade). */
  expireAll: () => void;
  changedElsewhere?: () => boolean;
}

function decorate<S extends object>(target: S, kinds: Record<keyof S, MethodKind>, caches: SubStoreCaches, shared: Shared, graceMs: number): S {
  const { contact, expireAll, changedElsewhere } = shared;
  const decorated: Record<string, AsyncMethod> = {};
  for (const [name, kind] of Object.entries(kinds) as Array<[string, MethodKind]>) {
    const method: AsyncMethod = (...args) => (target as Record<string, AsyncMethod>)[name]!(...args);
    const cache = caches.byMethod.get(name);
    if (cache) {
      decorated[name] = (...args) => {
        if (changedElsewhere?.()) expireAll();
        return cache.get(JSON.stringify(args), () => method(...args), graceMs);
      };
    } else if (kind === 'write') {
      decorated[name] = async (...args) => {
        const result = await contact.call(() => method(...args));
        expireAll();
        return result;
      };
    } else decorated[name] = (...args) => contact.call(() => method(...args));
  }
  return decorated as S;
}

/**
 * The control store as a cluster node uses it (the store is the cluster's Redis): the reads of the submission and
 * delivery paths are cached for CACHE_FRESH_MS, and while the store is unreachable (it throws StoreUnavailableError)
 * the last values read stand in for `graceMs` after it last answered; past that, or for anything never read, calls
 * throw StoreUnavailableError, as writes do while it is unreachable.
 */
export function cachedControlStore(store: ControlStore, options: CachedControlStoreOptions): CachedControlStore {
  const contact = new StoreContact('control store', options.now, options.log);
  const freshMs = options.freshMs ?? CACHE_FRESH_MS;
  const names = Object.keys(METHOD_KINDS) as Array<keyof SubStores>;
  const caches = new Map(names.map((name) => [name, new SubStoreCaches(METHOD_KINDS[name], contact, freshMs)]));
  const shared: Shared = {
    contact,
    expireAll: () => {
      for (const subStore of caches.values()) subStore.expireAll();
    },
    ...(options.changedElsewhere ? { changedElsewhere: options.changedElsewhere } : {}),
  };
  const view = (graceMs: number): ControlStore => {
    const subStores = Object.fromEntries(names.map((name) => [name, decorate<object>(store[name], METHOD_KINDS[name], caches.get(name)!, shared, graceMs)]));
    return { ...(subStores as unknown as SubStores), close: () => store.close() };
  };
  return { ...view(options.graceMs), withGrace: view };
}
