import type { ChainableCommander, Redis } from 'ioredis';

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;

/** The millisecond clock of the Redis server, the one every node of a fleet agrees on (Lua, into `now`). */
export const REDIS_NOW_LUA = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * A Lua script registered on a connection with ioredis's defineCommand: each call is one EVALSHA, and the script text
 * is sent with EVAL only the first time on a connection or after the server lost its script cache (NOSCRIPT), so
 * every call is a single round trip. Register before making pipelines: a pipeline takes the scripts known then.
 */
export class LuaScript {
  /**
   * @param name unique among the scripts registered on one connection
   * @param numberOfKeys null when it varies: the keys given to `run` are then counted for each call
   */
  constructor(
    readonly name: string,
    private readonly lua: string,
    private readonly numberOfKeys: number | null,
  ) {}

  register(redis: Redis): void {
    redis.defineCommand(this.name, { lua: this.lua, ...(this.numberOfKeys === null ? {} : { numberOfKeys: this.numberOfKeys }) });
  }

  run(target: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    return this.#call(target, keys, args);
  }

  /** Adds a call to a pipeline or transaction; its result comes with exec(). */
  queue(target: ChainableCommander, keys: readonly string[], args: ReadonlyArray<string | number>): void {
    void this.#call(target, keys, args);
  }

  #call(target: Redis | ChainableCommander, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    // defineCommand adds the method at run time, so the typings cannot know it.
    const call = (target as unknown as Record<string, ScriptCall | undefined>)[this.name];
    if (!call) throw new Error(`Lua script ${this.name} is not registered on this connection`);
    const counted = this.numberOfKeys === null ? [keys.length] : [];
    return call.call(target, ...counted, ...keys, ...args);
  }
}
