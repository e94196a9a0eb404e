import { StoreUnavailableError } from '../../common/store-unavailable.js';
import type { PrimaryCallName, PrimaryCalls } from './primary-calls.js';
import type { FromWorker } from './worker-messages.js';

/** A session worker's calls to the primary (app/workers/primary-calls.ts), matched with their answers by id. */
export class PrimaryChannel {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  constructor(private readonly send: (message: FromWorker) => void) {}

  call<Name extends PrimaryCallName>(name: Name, ...args: Parameters<PrimaryCalls[Name]>): Promise<Awaited<ReturnType<PrimaryCalls[Name]>>> {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send({ kind: 'call', id, name, args });
    });
  }

  /** A call whose answer nobody waits for. */
  tell<Name extends PrimaryCallName>(name: Name, ...args: Parameters<PrimaryCalls[Name]>): void {
    this.send({ kind: 'call', id: -1, name, args });
  }

  answered(id: number, value: unknown, error: string | undefined, unavailableStore?: string): void {
    const call = this.pending.get(id);
    this.pending.delete(id);
    if (error !== undefined) call?.reject(unavailableStore === undefined ? new Error(error) : Object.assign(new StoreUnavailableError(unavailableStore), { message: error }));
    else call?.resolve(value);
  }

  /** Fails every open call (the primary is gone). */
  abandon(): void {
    for (const call of this.pending.values()) call.reject(new Error('the gateway primary process is gone'));
    this.pending.clear();
  }
}
