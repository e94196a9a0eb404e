import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { stopChild } from './stop-child.js';
import type { SinkReply, SinkRequest } from './token-sink-protocol.js';

/** A request before it is given its id (Omit on each member of the union, not on the union). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

/** What arrived of one run's messages. */
export interface RunArrivals {
  received: Set<number>;
  /** Copies beyond the first, over all messages of the run. */
  duplicates: number;
  /** The sampled messages as delivered, by index. */
  samples: Map<number, Buffer>;
}

export interface TokenSink {
  host: string;
  port: number;
  /** Starts counting the messages whose token names run `tag`; every `sampleEvery`-th index is kept whole. */
  expect(tag: string, sampleEvery: number): Promise<void>;
  /**
   * Resolves when `target` distinct messages of the run have arrived, with `reachedAt` the epoch ms of the last of
   * them, or when none has arrived for `idleTimeoutMs`, with `reachedAt` null.
   */
  waitFor(tag: string, target: number, idleTimeoutMs: number): Promise<{ distinct: number; reachedAt: number | null }>;
  result(tag: string): Promise<RunArrivals>;
  /** The sink's CPU time so far, the messages it received, and those it could not count for any run, by reason. */
  usage(): Promise<{ cpuMs: number; messages: number; strays: Record<string, number> }>;
  stop(): Promise<void>;
}

const POLL_MS = 100;

/** Starts token-sink.ts as a child process listening on `host` (a free port), and talks to it over IPC. */
export async function startTokenSink(host: string): Promise<TokenSink> {
  const child = fork(new URL('./token-sink.js', import.meta.url), [host], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const pending = new Map<number, { resolve: (reply: SinkReply) => void; reject: (error: Error) => void }>();
  let failure: Error | null = null;
  let startupFailed: (error: Error) => void = () => undefined;
  const fail = (error: Error) => {
    failure ??= error;
    startupFailed(failure);
    for (const waiter of pending.values()) waiter.reject(failure);
    pending.clear();
  };
  child.once('error', fail);
  child.once('exit', (code, signal) => fail(new Error(`the token sink exited (${signal ?? code}) ${stderr.trim()}`)));

  const port = await new Promise<number>((resolve, reject) => {
    startupFailed = reject;
    child.once('message', (message: { type: string; port: number }) => resolve(message.port));
  });
  child.on('message', (reply: SinkReply) => {
    pending.get(reply.id)?.resolve(reply);
    pending.delete(reply.id);
  });

  let nextId = 0;
  const ask = <T extends SinkReply['type']>(request: Unnumbered<SinkRequest>): Promise<Extract<SinkReply, { type: T }>> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      pending.set(id, { resolve: (reply) => resolve(reply as Extract<SinkReply, { type: T }>), reject });
      child.send({ ...request, id } as SinkRequest);
    });

  return {
    host,
    port,
    async expect(tag, sampleEvery) {
      await ask<'ok'>({ type: 'expect', tag, sampleEvery });
    },
    async waitFor(tag, target, idleTimeoutMs) {
      let distinct = -1;
      let changedAt = performance.now();
      for (;;) {
        const status = await ask<'status'>({ type: 'status', tag });
        if (status.distinct >= target) return { distinct: status.distinct, reachedAt: status.lastNewAt };
        if (status.distinct !== distinct) {
          distinct = status.distinct;
          changedAt = performance.now();
        } else if (performance.now() - changedAt >= idleTimeoutMs) return { distinct, reachedAt: null };
        await sleep(POLL_MS);
      }
    },
    async result(tag) {
      const reply = await ask<'result'>({ type: 'result', tag });
      return {
        received: new Set(reply.received),
        duplicates: reply.duplicates,
        samples: new Map(reply.samples.map(([index, raw]) => [index, Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength)])),
      };
    },
    usage: () => ask<'usage'>({ type: 'usage' }),
    stop: () => stopChild(child),
  };
}
