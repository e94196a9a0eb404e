import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { RoutedReport } from '../feedback/intake/feedback-router.js';
import type { ClusterKeys } from './cluster-keys.js';
import { decodeReport } from './feedback-stream.js';

const GROUP = 'intake';
/** Entries read, and applied together (their events share the intake's group commits), at once. */
const BATCH = 32;
/** How long a read waits for new entries: below the connection's command timeout (redis-connection.ts). */
const BLOCK_MS = 1000;
const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

type StreamReply = Array<[Buffer, Array<[Buffer, Buffer[] | null]>]> | null;

/** What applies a report (FeedbackIntake.receiveRouted); resolves once its outcome is durable. */
export type ReportReceiver = (report: RoutedReport) => Promise<unknown>;

/**
 * Applies the reports other nodes took for this node's return paths, from its stream, as if they had come here. An
 * entry is acknowledged and deleted only after its outcome is durable in the queue database, so a crash means it is
 * read again (pending entries first, at start and after any failure): at least once, and a report with a Message-ID
 * gives the same event ids again, which the event log keeps once. Needs a connection of its own (reads block).
 */
export class FeedbackInbox {
  private stopped = false;
  private blocked = false;
  private running: Promise<void> | null = null;
  private wakeRetry: (() => void) | null = null;

  constructor(
    private readonly redis: Redis,
    private readonly keys: ClusterKeys,
    private readonly nodeId: string,
    private readonly receive: ReportReceiver,
    private readonly log: Logger,
  ) {}

  start(): void {
    this.running = this.run();
  }

  /** Lets the report in hand finish, then closes the connection. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeRetry?.();
    // A read waiting for entries has nothing in hand: cut it short.
    if (this.blocked) this.redis.disconnect();
    await this.running;
    this.redis.disconnect();
  }

  private async run(): Promise<void> {
    const stream = this.keys.feedback(this.nodeId);
    let grouped = false;
    let pendingFirst = true;
    let retryMs = FIRST_RETRY_MS;
    while (!this.stopped) {
      try {
        if (!grouped) await this.createGroup(stream);
        grouped = true;
        const entries = await this.read(stream, pendingFirst ? '0' : '>');
        if (pendingFirst && entries.length === 0) pendingFirst = false;
        const failed = (await Promise.allSettled(entries.map(([id, fields]) => this.apply(stream, id, fields)))).find((result) => result.status === 'rejected');
        if (failed) throw failed.reason;
        retryMs = FIRST_RETRY_MS;
      } catch (error) {
        if (this.stopped) return;
        // The group is gone with Redis's data (a restart without persistence): make it again.
        if (/NOGROUP/.test((error as Error).message)) grouped = false;
        pendingFirst = true;
        this.log.warn({ err: error, retryInMs: retryMs }, 'cannot read feedback from other nodes; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryMs);
          this.wakeRetry = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wakeRetry = null;
        retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
      }
    }
  }

  private async createGroup(stream: string): Promise<void> {
    try {
      // From the stream's start: entries written before the group existed (other nodes may route to a node as soon as
      // its heartbeat has joined it to the cluster) are this node's too.
      await this.redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
    } catch (error) {
      if (!/BUSYGROUP/.test((error as Error).message)) throw error;
    }
  }

  private async read(stream: string, from: '0' | '>'): Promise<Array<[string, Buffer[] | null]>> {
    this.blocked = from === '>';
    try {
      const reply = (await (from === '>'
        ? this.redis.xreadgroupBuffer('GROUP', GROUP, this.nodeId, 'COUNT', BATCH, 'BLOCK', BLOCK_MS, 'STREAMS', stream, from)
        : this.redis.xreadgroupBuffer('GROUP', GROUP, this.nodeId, 'COUNT', BATCH, 'STREAMS', stream, from))) as StreamReply;
      return (reply?.[0]?.[1] ?? []).map(([id, fields]) => [id.toString(), fields]);
    } finally {
      this.blocked = false;
    }
  }

  private async apply(stream: string, id: string, fields: Buffer[] | null): Promise<void> {
    // A pending entry without fields was deleted after its outcome was durable, but not acknowledged (a crash between).
    const report = fields ? decodeReport(fields) : null;
    if (fields && !report) this.log.error({ entry: id, stream }, 'feedback entry from another node cannot be read; dropped');
    if (report) await this.receive(report);
    await this.redis.multi().xack(stream, GROUP, id).xdel(stream, id).exec();
  }
}
