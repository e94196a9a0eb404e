import type { Logger } from 'pino';
import type { MailEvent } from '../events/mail-event.js';
import type { DeliveryRelease, DeliveryResult, ResultBatch } from '../queue/delivery-records.js';
import type { DeliveryLeases } from '../queue/queue-store.js';
import type { Spool } from '../queue/spool.js';

/** How long a failed write waits before it is tried again; the leases keep the deliveries safe meanwhile. */
const RETRY_WRITE_MS = 1000;
/**
 * How long results gather before they are written: each write is an fsync, and at hundreds of deliveries per second
 * one per result would cost more than the deliveries. A crash in this window repeats those deliveries, nothing more.
 */
const GATHER_MS = 10;

/**
 * Writes what the engine decided in batches: everything that arrived within GATHER_MS goes into one SQLite
 * transaction (one fsync for many results). Then the body files of messages whose recipients are all
 * final are removed, and `settled` is told how many leased deliveries the engine no longer holds.
 */
export class ResultRecorder {
  private batch: ResultBatch = emptyBatch();
  private scheduled = false;
  private writing: Promise<void> | null = null;

  constructor(
    private readonly leases: DeliveryLeases,
    private readonly spool: Spool,
    private readonly log: Logger,
    private readonly settled: (deliveries: number) => void,
    private readonly pendingVolumes: () => ResultBatch['volumes'],
    private readonly now: () => number = Date.now,
  ) {}

  /** Results and the events they cause: they go into the same commit. */
  results(results: readonly DeliveryResult[], events: readonly MailEvent[]): void {
    this.batch.results.push(...results);
    this.batch.events.push(...events);
    this.schedule();
  }

  release(release: DeliveryRelease): void {
    this.batch.releases.push(release);
    this.schedule();
  }

  signature(messageId: string, signature: Buffer): void {
    this.batch.signatures.push({ messageId, signature });
    this.schedule();
  }

  /** Writes whatever is waiting now (at shutdown). */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.isEmpty()) return;
    this.writing = this.write().finally(() => (this.writing = null));
    await this.writing;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      void this.flush();
    }, GATHER_MS);
  }

  private async write(): Promise<void> {
    const batch = this.batch;
    this.batch = emptyBatch();
    batch.volumes.push(...this.pendingVolumes());
    let durable;
    try {
      durable = this.leases.record(batch, this.now());
    } catch (error) {
      this.log.error({ err: error, results: batch.results.length }, 'could not record delivery results; retrying');
      this.batch = mergeBatches(batch, this.batch);
      setTimeout(() => this.schedule(), RETRY_WRITE_MS);
      return;
    }
    this.settled(batch.results.length + batch.releases.length);
    let completed;
    try {
      completed = await durable;
    } catch (error) {
      // The results are committed; only their body files stay, and the next start removes them as orphans.
      this.log.error({ err: error, results: batch.results.length }, 'delivery results could not be fsynced; keeping the body files of completed messages');
      return;
    }
    await Promise.all(
      completed.filter(({ bodyFile }) => bodyFile !== '').map(({ id, bodyFile }) =>
        this.spool.remove(bodyFile).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') this.log.warn({ err: error, messageId: id }, 'could not remove the body file of a completed message');
        }),
      ),
    );
  }

  private isEmpty(): boolean {
    const { results, releases, signatures } = this.batch;
    return results.length === 0 && releases.length === 0 && signatures.length === 0;
  }
}

const emptyBatch = (): ResultBatch => ({ results: [], releases: [], signatures: [], volumes: [], events: [] });

const mergeBatches = (first: ResultBatch, second: ResultBatch): ResultBatch => ({
  results: [...first.results, ...second.results],
  releases: [...first.releases, ...second.releases],
  signatures: [...first.signatures, ...second.signatures],
  volumes: [...first.volumes, ...second.volumes],
  events: [...first.events, ...second.events],
});
