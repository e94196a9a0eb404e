import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { StoreUnavailableError } from '../../common/store-unavailable.js';
import type { GatewayConfig } from '../../config/schema.js';
import type { LocalSessionGate } from '../../smtp/session-gate.js';
import type { ApiRequestCounter } from '../../http/api/api-server.js';
import type { SubmissionObserver } from '../../submission/submit-message.js';
import type { PrimaryCalls } from './primary-calls.js';
import { MessageBatcher } from './message-batcher.js';
import { rebuildError, type CallAnswer, type FromWorker, type PrimaryCall, type ToWorker } from './worker-messages.js';

const WORKER_SCRIPT = fileURLToPath(new URL('./session-worker.js', import.meta.url));
/** A worker that died is replaced after this long, doubling while replacements keep dying young, up to the maximum. */
const RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that served this long is considered healthy again: the next restart starts from RESTART_DELAY_MS. */
const HEALTHY_AFTER_MS = 60_000;
/**
 * V8 lets each process's young generation grow to 3 × 16 MB under load and keeps it; every session's objects are
 * short-lived, and 4 MB semi-spaces cost no measurable throughput while keeping each process tens of megabytes
 * smaller (README, Performance). npm start and the systemd unit give the primary the same flag.
 */
const YOUNG_GENERATION_FLAG = '--max-semi-space-size=4';
/**
 * V8 allocates straight into old space at a site most of whose objects survived a scavenge (pretenuring). A worker
 * holds each body from DATA to its 250, so the sites that make its Buffers were pretenured, and the Buffers then
 * waited for a full collection instead of dying young: with 100 KB messages V8 started one every 100-250 ms per worker
 * (README, Performance). The primary keeps V8's default: its messages live until delivered, and without pretenuring
 * it collected more often.
 */
const NO_PRETENURING_FLAG = '--no-allocation-site-pretenuring';
/**
 * V8 counts the Buffers a process allocated since its last full collection against its old generation's limit, which
 * for a worker's 13-14 MB heap is only 9-12 MB above it: with 100 KB messages each worker marked its whole heap every
 * 150-250 ms. A limit of at least 32 MB cut those collections by 60 % and a worker's CPU by a fifth with no more
 * memory after the load; 64 MB cut more but kept about 30 MB more per worker (README, Performance). An operator's
 * --initial-old-space-size given to the primary is the workers' too and wins.
 */
const OLD_GENERATION_FLAG = '--initial-old-space-size=32';
/**
 * glibc gives every thread that allocates (libuv's pool, V8's helpers) a malloc arena of its own, up to 8 per core, and
 * keeps what a busy moment allocated in each; two arenas kept each process about 30 MB smaller after a load of 100 KB
 * messages at no measurable CPU (README, Performance). An operator's own setting wins.
 */
export const MALLOC_ARENAS = { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX ?? '2' };
/** A worker that does not answer a request (to stop accepting, to pass on its counts) is busy or hung: not waited for longer. */
const REQUEST_TIMEOUT_MS = 1000;
/** How often the primary looks whether the fleet's live node count changed, to tell the workers (cluster mode). */
const FLEET_NODES_CHECK_MS = 1000;

/** A worker's node flags: the primary's (an operator's --cpu-prof, --initial-old-space-size), with the workers' own heap settings. */
export function workerNodeFlags(primaryFlags: readonly string[]): string[] {
  const inherited = primaryFlags.filter((flag) => !flag.startsWith('--max-semi-space-size'));
  const oldGeneration = inherited.some((flag) => flag.startsWith('--initial-old-space-size')) ? [] : [OLD_GENERATION_FLAG];
  return [...inherited, YOUNG_GENERATION_FLAG, NO_PRETENURING_FLAG, ...oldGeneration];
}

export interface WorkerPoolHooks {
  calls: PrimaryCalls;
  observe?: SubmissionObserver;
  apiRequests?: ApiRequestCounter;
  /** Seconds one send-rate and quota check took in a worker. */
  observeSendLimitCheck?: (seconds: number) => void;
  /** Cluster mode: the nodes last seen alive, which each worker's send limiter needs while Redis is away. */
  fleetNodes?: () => number;
  /** The node's AUTH blocks, which the workers check before AUTH themselves. */
  authBlocks: Pick<LocalSessionGate, 'authBlocksInForce' | 'onAuthBlocks'>;
}

type Listening = Extract<FromWorker, { kind: 'listening' }>;

/**
 * The primary's side of the session workers: forks smtp.workers processes that all listen on the configured ports,
 * answers their calls, counts their metrics, replaces a worker that dies, and stops them.
 */
export class WorkerPool {
  private readonly workers = new Set<Worker>();
  private stopping = false;
  private restartDelayMs = RESTART_DELAY_MS;
  private toldFleetNodes = 1;
  private fleetNodesTimer: NodeJS.Timeout | undefined;
  private nextFlushId = 0;

  constructor(
    private readonly config: GatewayConfig,
    private readonly ticketKeys: Buffer,
    private readonly hooks: WorkerPoolHooks,
    private readonly log: Logger,
  ) {}

  /** Starts every worker; resolves with the first one's listeners (all listen on the same ports) or fails with the first failure. */
  async start(): Promise<Listening> {
    // Each worker accepts from the shared listening sockets itself, and a busy worker accepts fewer. Node's default on
    // Linux (SCHED_RR) has the primary accept every connection and pass it to a worker over IPC: about a tenth of the
    // CPU of a session per connection, on the primary's event loop, which every session waits on.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    this.hooks.authBlocks.onAuthBlocks((entries) => {
      for (const worker of this.workers) this.send(worker, { kind: 'auth-blocks', entries });
    });
    cluster.setupPrimary({ exec: WORKER_SCRIPT, args: [], execArgv: workerNodeFlags(process.execArgv), serialization: 'advanced' });
    const started = await Promise.allSettled(Array.from({ length: this.config.smtp.workers }, () => this.fork()));
    const failed = started.find((result) => result.status === 'rejected');
    if (failed) {
      await this.stop();
      throw failed.reason;
    }
    const { fleetNodes } = this.hooks;
    if (fleetNodes) this.fleetNodesTimer = setInterval(() => this.tellFleetNodes(fleetNodes()), FLEET_NODES_CHECK_MS).unref();
    return (started[0] as PromiseFulfilledResult<Listening>).value;
  }

  /** Each worker reloads the certificates from the files (the primary has checked they load). */
  reloadTls(): void {
    for (const worker of this.workers) this.send(worker, { kind: 'reload-tls' });
  }

  /** Asks every worker to close its sessions as the listeners' stop does, and waits for them to exit. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.fleetNodesTimer);
    // The primary accepts on the shared sockets until the last worker has let go of them: all must, before any
    // session is told 421 and its client tries to connect again.
    await Promise.all([...this.workers].map((worker) => this.stopAccepting(worker)));
    const deadlineMs = (this.config.smtp.shutdownTimeoutSeconds + 5) * 1000;
    await Promise.all(
      [...this.workers].map(
        (worker) =>
          new Promise<void>((resolve) => {
            if (worker.isDead()) return resolve();
            const timer = setTimeout(() => worker.process.kill('SIGKILL'), deadlineMs);
            worker.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            this.send(worker, { kind: 'stop' });
          }),
      ),
    );
  }

  /**
   * Resolves when every worker has passed on the counts it keeps for the metrics (or is gone, or has not answered in
   * time). Each request has its own id: a scrape is not satisfied by the answer to an earlier one.
   */
  async collectMetrics(): Promise<void> {
    const id = this.nextFlushId++;
    await Promise.all([...this.workers].map((worker) => this.request(worker, { kind: 'flush-metrics', id }, (reply) => reply.kind === 'metrics-flushed' && reply.id === id)));
  }

  /** Resolves when the worker has closed its listening sockets (or is gone, or has not answered in time). */
  private stopAccepting(worker: Worker): Promise<void> {
    return this.request(worker, { kind: 'stop-accepting' }, (reply) => reply.kind === 'not-accepting');
  }

  /** Sends `message` and resolves when the worker answers it (`isAnswer`), exits, or has not answered within REQUEST_TIMEOUT_MS. */
  private request(worker: Worker, message: ToWorker, isAnswer: (reply: FromWorker) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        worker.off('message', answered);
        worker.off('exit', done);
        resolve();
      };
      const answered = (reply: FromWorker) => {
        if (isAnswer(reply)) done();
      };
      const timer = setTimeout(done, REQUEST_TIMEOUT_MS);
      worker.on('message', answered);
      worker.once('exit', done);
      if (worker.isDead()) done();
      else this.send(worker, message);
    });
  }

  private fork(): Promise<Listening> {
    const worker = cluster.fork(MALLOC_ARENAS);
    this.workers.add(worker);
    const forkedAt = Date.now();
    const answers = new MessageBatcher<CallAnswer>((batch) => this.send(worker, { kind: 'answers', answers: batch }));
    return new Promise((resolve, reject) => {
      let listening = false;
      worker.on('message', (message: FromWorker) => {
        if (message.kind === 'ready') {
          this.send(worker, { kind: 'start', config: this.config, ticketKeys: this.ticketKeys });
          if (this.toldFleetNodes !== 1) this.send(worker, { kind: 'fleet-nodes', nodes: this.toldFleetNodes });
          const blocks = this.hooks.authBlocks.authBlocksInForce();
          if (blocks.length > 0) this.send(worker, { kind: 'auth-blocks', entries: blocks });
        }
        else if (message.kind === 'listening') {
          listening = true;
          resolve(message);
        } else if (message.kind === 'failed') reject(rebuildError(message.error));
        else this.received(worker, message, answers);
      });
      // IPC errors (a worker gone mid-send) must not end the primary; 'exit' follows.
      worker.on('error', (error) => this.log.warn({ err: error, worker: worker.id }, 'session worker channel error'));
      worker.on('exit', (code, signal) => {
        this.workers.delete(worker);
        if (!listening) return reject(new Error(`session worker exited with ${signal ?? `code ${code}`} before listening`));
        if (this.stopping) return;
        this.log.error({ worker: worker.id, code, signal }, 'session worker died; starting another (its open sessions were lost, no accepted message was)');
        if (Date.now() - forkedAt > HEALTHY_AFTER_MS) this.restartDelayMs = RESTART_DELAY_MS;
        else this.backOff();
        this.replace();
      });
    });
  }

  /**
   * Starts a worker in place of one that died, after the restart delay. One that fails to start (or dies before it
   * listens) is tried again, the delay doubling each time: a passing failure must not leave the node a worker short
   * until it is restarted.
   */
  private replace(): void {
    setTimeout(() => {
      if (this.stopping) return;
      this.fork().catch((error: unknown) => {
        if (this.stopping) return;
        this.backOff();
        this.log.error({ err: error, retryInMs: this.restartDelayMs }, 'a replacement session worker failed to start; trying again');
        this.replace();
      });
    }, this.restartDelayMs).unref();
  }

  /** Doubles the restart delay, up to MAX_RESTART_DELAY_MS: workers that keep dying are started less often. */
  private backOff(): void {
    this.restartDelayMs = Math.min(this.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
  }

  private received(from: Worker, message: FromWorker, answers: MessageBatcher<CallAnswer>): void {
    switch (message.kind) {
      case 'metrics':
        for (const outcome of message.submissions) this.hooks.observe?.(outcome);
        for (const labels of message.apiRequests) this.hooks.apiRequests?.inc(labels);
        for (const seconds of message.sendLimitChecks) this.hooks.observeSendLimitCheck?.(seconds);
        break;
      case 'calls':
        for (const call of message.calls) this.answer(call, answers);
        break;
      case 'tls-session':
        for (const other of this.workers) if (other !== from) this.send(other, message);
        break;
    }
  }

  private answer({ id, name, args }: PrimaryCall, answers: MessageBatcher<CallAnswer>): void {
    const call = (this.hooks.calls as Record<string, ((...args: unknown[]) => unknown) | undefined>)[name];
    const settled = (value: unknown, error?: Error) => {
      if (id < 0) return;
      const failure = error === undefined ? {} : { error: error.message, ...(error instanceof StoreUnavailableError ? { unavailableStore: error.store } : {}) };
      answers.push({ id, value, ...failure });
    };
    Promise.resolve()
      .then(() => {
        if (!call) throw new Error(`no such call: ${name}`);
        return call(...args);
      })
      .then(
        (value) => settled(value),
        (error: unknown) => settled(null, error instanceof Error ? error : new Error(String(error))),
      );
  }

  private tellFleetNodes(nodes: number): void {
    if (nodes === this.toldFleetNodes) return;
    this.toldFleetNodes = nodes;
    for (const worker of this.workers) this.send(worker, { kind: 'fleet-nodes', nodes });
  }

  private send(worker: Worker, message: ToWorker): void {
    if (!worker.isConnected()) return;
    worker.send(message, (error: Error | null) => {
      if (error) this.log.debug({ err: error, worker: worker.id }, 'message to a session worker not delivered');
    });
  }
}
