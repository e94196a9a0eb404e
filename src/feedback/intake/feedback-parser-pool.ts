import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Feedback } from './read-feedback.js';

const WORKER_URL = new URL('./feedback-parser-worker.js', import.meta.url);

type Answer = { id: number; feedback: Feedback } | { id: number; error: string };

/** One parser thread and the requests it has not answered yet. */
class ParserThread {
  readonly pending = new Map<number, { resolve: (feedback: Feedback) => void; reject: (error: Error) => void }>();
  alive = true;
  private readonly worker: Worker;
  private next = 0;

  constructor(log: Logger) {
    this.worker = new Worker(WORKER_URL);
    // The sessions waiting for answers keep the process busy; an idle thread must not keep it alive.
    this.worker.unref();
    this.worker.on('message', (answer: Answer) => {
      const request = this.pending.get(answer.id);
      this.pending.delete(answer.id);
      if ('error' in answer) request?.reject(new Error(answer.error));
      else request?.resolve(answer.feedback);
    });
    this.worker.on('error', (error) => {
      log.error({ err: error }, 'feedback parser thread failed');
      this.fail(error);
    });
    this.worker.on('exit', (code) => this.fail(new Error(`feedback parser thread exited with code ${code}`)));
  }

  read(raw: Buffer): Promise<Feedback> {
    return new Promise((resolve, reject) => {
      const id = this.next++;
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, raw });
    });
  }

  async terminate(): Promise<void> {
    this.alive = false;
    await this.worker.terminate();
  }

  private fail(error: Error): void {
    this.alive = false;
    for (const request of this.pending.values()) request.reject(error);
    this.pending.clear();
  }
}

/**
 * Reads feedback messages (mailparser's MIME parsing, the costliest step of intake) in worker threads, so a burst
 * of bounces uses the other cores while the main thread runs the SMTP sessions and commits. A thread that dies
 * fails only the requests it held (their senders get 451 and retry); the next request starts a new one.
 */
export class FeedbackParserPool {
  private threads: ParserThread[] = [];

  constructor(
    private readonly size: number,
    private readonly log: Logger,
  ) {}

  read(raw: Buffer): Promise<Feedback> {
    this.threads = this.threads.filter((thread) => thread.alive);
    let thread = this.threads.reduce<ParserThread | undefined>((idlest, candidate) => (idlest && idlest.pending.size <= candidate.pending.size ? idlest : candidate), undefined);
    if (!thread || (thread.pending.size > 0 && this.threads.length < this.size)) this.threads.push((thread = new ParserThread(this.log)));
    return thread.read(raw);
  }

  async close(): Promise<void> {
    const threads = this.threads;
    this.threads = [];
    await Promise.all(threads.map((thread) => thread.terminate()));
  }
}
