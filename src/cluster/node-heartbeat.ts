import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ClusterKeys } from './cluster-keys.js';

/** What a live node says about itself, refreshed every heartbeat. */
export interface NodeHeartbeat {
  id: string;
  version: string;
  hostname: string;
  pid: number;
  /** ISO 8601. */
  startedAt: string;
  /** When this heartbeat was written (ISO 8601). */
  at: string;
  /** SMTP listeners, `host:port=mode` as the start log names them. */
  listeners: string[];
  /** Recipients (delivery rows) per state in the node's queue. */
  queue: Record<string, number>;
}

export interface HeartbeatSources {
  listeners(): string[];
  queueDepth(): Record<string, number>;
}

/** The version of this relaygate (package.json; this file runs from dist/src/cluster/). */
export const RELAYGATE_VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/**
 * Writes this node's heartbeat, `nodes:<id>`, every `intervalMs`, expiring after three intervals: a node that stops
 * (or is killed) drops out of `relaygate cluster status` by itself. Each beat also keeps the node in the cluster's set
 * of nodes (restored so after a Redis that lost its data). A graceful stop removes the heartbeat at once.
 */
export class NodeHeartbeatWriter {
  private timer: NodeJS.Timeout | null = null;
  private failing = false;
  private readonly startedAt = new Date().toISOString();

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    private readonly sources: HeartbeatSources,
    private readonly intervalMs: number,
    private readonly log: Logger,
  ) {}

  start(): void {
    const beat = () => void this.beat();
    this.timer = setInterval(beat, this.intervalMs);
    this.timer.unref();
    beat();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    try {
      await this.redis.del(this.keys.heartbeat(this.nodeId));
    } catch (error) {
      this.log.warn({ err: error }, 'could not remove the heartbeat; it expires by itself');
    }
  }

  private async beat(): Promise<void> {
    try {
      // Inside the try: the queue depth is read from the queue store, which can fail (I/O error, busy) like Redis can.
      const heartbeat: NodeHeartbeat = {
        id: this.nodeId,
        version: RELAYGATE_VERSION,
        hostname: hostname(),
        pid: process.pid,
        startedAt: this.startedAt,
        at: new Date().toISOString(),
        listeners: this.sources.listeners(),
        queue: this.sources.queueDepth(),
      };
      await this.redis.multi().set(this.keys.heartbeat(this.nodeId), JSON.stringify(heartbeat), 'PX', this.intervalMs * 3).sadd(this.keys.nodes, this.nodeId).exec();
      if (this.failing) this.log.info('heartbeat written again');
      this.failing = false;
    } catch (error) {
      // One warning per outage; the error says whether Redis or the queue store failed.
      if (!this.failing) this.log.warn({ err: error }, 'cannot write the heartbeat; other nodes and `cluster status` do not see this node until it is written again');
      this.failing = true;
    }
  }
}

/** A node of the cluster, with its heartbeat when it is live, and the reports other nodes took for it that wait. */
export interface ClusterMember {
  id: string;
  heartbeat: NodeHeartbeat | null;
  pendingFeedback: number;
}

/** Every node that has joined the cluster, ordered by id. */
export async function clusterMembers(redis: Redis, keys: ClusterKeys): Promise<ClusterMember[]> {
  const ids = (await redis.smembers(keys.nodes)).sort();
  if (ids.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const id of ids) pipeline.get(keys.heartbeat(id)).xlen(keys.feedback(id));
  const results = (await pipeline.exec()) ?? [];
  return ids.map((id, index) => {
    const [[heartbeatError, heartbeat], [lengthError, length]] = [results[2 * index] ?? [null, null], results[2 * index + 1] ?? [null, 0]];
    if (heartbeatError || lengthError) throw heartbeatError ?? lengthError;
    return { id, heartbeat: typeof heartbeat === 'string' ? (JSON.parse(heartbeat) as NodeHeartbeat) : null, pendingFeedback: Number(length) };
  });
}
