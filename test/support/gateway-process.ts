import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { MALLOC_ARENAS } from '../../src/app/workers/worker-pool.js';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RELAYGATE_BIN = join(REPO_ROOT, 'bin', 'relaygate');

export interface GatewayProcess {
  dataDir: string;
  /** Bound ports by mode, in listener order. */
  starttlsPorts: number[];
  tlsPorts: number[];
  /** The SES HTTP API's ports (http.listeners; by default one plain-HTTP listener on a free loopback port). */
  httpPorts: number[];
  /** The metrics/health listener's port, or null when it is off. */
  metricsPort: number | null;
  /** Bound ports of listeners that take feedback (`=starttls+intake`, `=tls+intake`). */
  intakePorts: number[];
  child: ChildProcess;
  logs: Array<Record<string, unknown>>;
  /** Waits for a log record with this message. */
  waitForLog(message: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGTERM; resolves with the exit code. A gateway still running after `timeoutMs` is killed and the call fails. */
  stop(timeoutMs?: number): Promise<number | null>;
  kill(): Promise<void>;
}

export interface GatewayProcessOptions {
  dataDir?: string;
  /** Written as the YAML configuration file. */
  config?: Record<string, unknown>;
  listen?: string[];
  extraArgs?: string[];
  /** Run without the capability to bind ports below 1024 (through setpriv), to see the port fallback. */
  withoutLowPorts?: boolean;
  /** Where the YAML configuration is written; default relaygate.yaml in the data directory (which must then exist). */
  configFile?: string;
  /** Added to the environment of the process. */
  env?: NodeJS.ProcessEnv;
  /**
   * Which lines of its stdout are parsed and kept in `logs` (default: all). A benchmark keeps only those it reads:
   * every line of a run parsed and held in the process that also runs the load would weigh on the measurement.
   */
  keepLog?: (line: string) => boolean;
}

export function tempDir(prefix = 'relaygate-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Starts `relaygate serve` as a child process, as an operator would, and waits until it listens. */
export async function startGatewayProcess(options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const dataDir = options.dataDir ?? tempDir();
  // The primary's V8 flag and malloc arenas as npm start and the systemd unit give them (app/workers/worker-pool.ts
  // says why); RELAYGATE_NODE_ARGS adds node flags (a benchmark's --cpu-prof), which the workers inherit.
  const args = [...(process.env.RELAYGATE_NODE_ARGS?.split(' ').filter(Boolean) ?? []), '--max-semi-space-size=4', RELAYGATE_BIN, '--data-dir', dataDir];
  // Delivery stays off unless a test configures it: accepted test mail must not go anywhere, and tests that look at
  // the spool must not see delivery remove it.
  // The certificate listener of event publishing and the HTTP listeners on free ports, so gateways of parallel tests
  // do not collide on 8081, 8080 and 9464.
  const events = { httpListen: '127.0.0.1:0', ...(options.config?.events as Record<string, unknown> | undefined) };
  const httpListeners = { listeners: ['127.0.0.1:0=http'], metricsListen: '127.0.0.1:0', ...(options.config?.http as Record<string, unknown> | undefined) };
  const config = { ...options.config, delivery: options.config?.delivery ?? { enabled: false }, events, http: httpListeners };
  const path = options.configFile ?? join(dataDir, 'relaygate.yaml');
  writeFileSync(path, stringify(config));
  args.push('--config', path);
  args.push('serve');
  for (const listen of options.listen ?? ['127.0.0.1:0=starttls', '127.0.0.1:0=tls']) args.push('--listen', listen);
  args.push(...(options.extraArgs ?? []));
  const [command, commandArgs] = options.withoutLowPorts
    ? ['setpriv', ['--bounding-set', '-net_bind_service', process.execPath, ...args]]
    : [process.execPath, args];
  const child = spawn(command, commandArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...MALLOC_ARENAS, RELAYGATE_CONFIG: '', ...options.env } });
  const logs: Array<Record<string, unknown>> = [];
  const watchers: Array<(record: Record<string, unknown>) => void> = [];
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (options.keepLog && !options.keepLog(line)) return;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      record = { msg: line };
    }
    logs.push(record);
    for (const watcher of [...watchers]) watcher(record);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const waitForLog = (message: string, timeoutMs = 15_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = logs.find((record) => record.msg === message);
      if (found) return resolve(found);
      const timer = setTimeout(() => reject(new Error(`no "${message}" log within ${timeoutMs} ms; stderr: ${stderr}`)), timeoutMs);
      const watcher = (record: Record<string, unknown>) => {
        if (record.msg !== message) return;
        clearTimeout(timer);
        watchers.splice(watchers.indexOf(watcher), 1);
        resolve(record);
      };
      watchers.push(watcher);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`relaygate exited with ${code} before "${message}"; stderr: ${stderr}; logs: ${JSON.stringify(logs)}`));
      });
    });

  // The primary and its session workers load the whole program; on a loaded machine that takes a while.
  const [listening, http] = await Promise.all([waitForLog('relaygate listening', 60_000), waitForLog('http api listening', 60_000)]).catch((error: unknown) => {
    // A gateway that did not start must not outlive the test (its workers with it).
    child.kill('SIGKILL');
    throw error;
  });
  const listeners = listening.listeners as string[];
  const ports = (mode: string) => listeners.filter((spec) => spec.endsWith(`=${mode}`)).map((spec) => Number(/:(\d+)=/.exec(spec)?.[1]));
  const metrics = http.metrics as string | null;
  return {
    dataDir,
    starttlsPorts: ports('starttls'),
    tlsPorts: ports('tls'),
    httpPorts: (http.listeners as string[]).map((spec) => Number(/:(\d+)=/.exec(spec)?.[1])),
    metricsPort: metrics ? Number(metrics.slice(metrics.lastIndexOf(':') + 1)) : null,
    intakePorts: [...ports('starttls+intake'), ...ports('tls+intake')],
    child,
    logs,
    waitForLog,
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error(`relaygate did not exit within ${timeoutMs} ms of SIGTERM; killed`));
        }, timeoutMs);
      });
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Starts several gateways at once (each takes seconds on a loaded machine), as the nodes of a fleet. All or none: when
 * one fails to start, those that did are stopped before the error is thrown.
 */
export async function startGatewayProcesses(options: GatewayProcessOptions[]): Promise<GatewayProcess[]> {
  const started = await Promise.allSettled(options.map((option) => startGatewayProcess(option)));
  const gateways = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) {
    await Promise.all(gateways.map((gateway) => gateway.stop()));
    throw failure.reason;
  }
  return gateways;
}
