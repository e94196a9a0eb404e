import { startGatewayProcess, type GatewayProcess, type GatewayProcessOptions } from '../test/support/gateway-process.js';

const STDERR_TAIL = 4000;
/** pino's level numbers: 50 error, 60 fatal. */
const ERROR_LEVEL = 50;

export interface GatewayExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The end of what the process wrote to stderr (a crash's stack trace). */
  stderr: string;
}

/**
 * A `relaygate serve` child process watched for what a long run needs: an exit nobody asked for (a crash), the
 * errors it logs (counted by message; the records themselves are let go, so a long run does not keep every log line),
 * and the end of its stderr.
 */
export class WatchedGateway {
  /** Set when the process exited without being told to. */
  crash: GatewayExit | null = null;
  /** Error and fatal log records by message, with the first error text seen for each. */
  readonly errors = new Map<string, { count: number; example: string }>();
  private stderr = '';
  private stopping = false;
  private readonly drainTimer: NodeJS.Timeout;

  private constructor(
    readonly process: GatewayProcess,
    onCrash: (exit: GatewayExit) => void,
  ) {
    process.child.stderr?.on('data', (chunk: Buffer) => (this.stderr = (this.stderr + chunk.toString()).slice(-STDERR_TAIL)));
    process.child.once('exit', (code, signal) => {
      this.drainLogs();
      if (this.stopping) return;
      this.crash = { code, signal, stderr: this.stderr };
      onCrash(this.crash);
    });
    this.drainTimer = setInterval(() => this.drainLogs(), 500);
  }

  static async start(options: GatewayProcessOptions, onCrash: (exit: GatewayExit) => void = () => undefined): Promise<WatchedGateway> {
    return new WatchedGateway(await startGatewayProcess(options), onCrash);
  }

  get pid(): number {
    return this.process.child.pid as number;
  }

  /** Stops it with SIGTERM (SIGKILL after `graceMs`). */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    clearInterval(this.drainTimer);
    const timer = setTimeout(() => void this.process.kill(), graceMs);
    await this.process.stop();
    clearTimeout(timer);
    this.drainLogs();
  }

  /** SIGKILL, as a power cut would stop it. */
  async kill(): Promise<void> {
    this.stopping = true;
    clearInterval(this.drainTimer);
    await this.process.kill();
    this.drainLogs();
  }

  private drainLogs(): void {
    for (const record of this.process.logs.splice(0)) {
      if (typeof record.level !== 'number' || record.level < ERROR_LEVEL) continue;
      const message = String(record.msg);
      const seen = this.errors.get(message);
      if (seen) seen.count++;
      else this.errors.set(message, { count: 1, example: describeError(record) });
    }
  }
}

function describeError(record: Record<string, unknown>): string {
  const err = record.err as { message?: string } | undefined;
  return err?.message ?? '';
}
