import { StoreUnavailableError } from '../../common/store-unavailable.js';
import type { PrimaryCallName, PrimaryCalls } from './primary-calls.js';
import { MessageBatcher } from './message-batcher.js';
import type { CallAnswer, FromWorker, PrimaryCall } from './worker-messages.js';

/** A session worker's calls to the primary (app/workers/primary-calls.ts), matched with their answers by id. */
export class PrimaryChannel {
  private next = 0;
  private readonly pending = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();

  private readonly calls: MessageBatcher<PrimaryCall>;

  constructor(send: (message: FromWorker) => void) {
    this.calls = new MessageBatcher((calls) => send({ kind: 'calls', calls }));
  }

  call<Name extends PrimaryCallName>(name: Name, ...args: Parameters<PrimaryCalls[Name]>): Promise<Awaited<ReturnType<PrimaryCalls[Name]>>> {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.calls.push({ id, name, args });
    });
  }

  /** A call whose answer nobody waits for. */
  tell<Name extends PrimaryCallName>(name: Name, ...args: Parameters<PrimaryCalls[Name]>): void {
    this.calls.push({ id: -1, name, args });
  }

  answered({ id, value, error, unavailableStore }: CallAnswer): void {
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
