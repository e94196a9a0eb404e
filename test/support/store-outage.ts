import { StoreUnavailableError } from '../../src/common/store-unavailable.js';
import type { ControlStore } from '../../src/store/control-store.js';

/**
 * A switchable outage of a store, for tests of what sits above one: while `down`, every call fails with the
 * StoreUnavailableError a Redis-backed store throws when Redis cannot be reached. Calls that reached the store
 * (down or not) are listed by name, e.g. "credentials.get".
 */
export class StoreOutage {
  down = false;
  readonly calls: string[] = [];

  /** `target` with each method behind the switch. */
  wrap<T extends object>(name: string, target: T): T {
    return new Proxy(target, {
      get: (object, property, receiver) => {
        const value: unknown = Reflect.get(object, property, receiver);
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          this.calls.push(`${name}.${String(property)}`);
          if (this.down) throw new StoreUnavailableError(name, new Error('connect ECONNREFUSED 127.0.0.1:6379'));
          return (value as (...args: unknown[]) => Promise<unknown>).apply(object, args);
        };
      },
    });
  }

  /** A control store whose sub-stores are behind the switch (close is not). */
  controlStore(store: ControlStore): ControlStore {
    return {
      accounts: this.wrap('accounts', store.accounts),
      credentials: this.wrap('credentials', store.credentials),
      identities: this.wrap('identities', store.identities),
      configurationSets: this.wrap('configurationSets', store.configurationSets),
      policies: this.wrap('policies', store.policies),
      suppression: this.wrap('suppression', store.suppression),
      close: () => store.close(),
    };
  }

  /** How many calls of `name` reached the store. */
  count(name: string): number {
    return this.calls.filter((call) => call === name).length;
  }
}
