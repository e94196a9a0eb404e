import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../test/support/gateway-process.js';
import type { DnsTxtRecord, MtaUnderTest } from './mta-under-test.js';
import { findExecutable } from './required-tools.js';
import { runChecked } from './run-checked.js';
import { freePort } from './tcp-port.js';

/** The project's reference Postfix: ../shared/bench/postfix-reference.sh from the project root. */
export const DEFAULT_POSTFIX_SCRIPT = resolve(REPO_ROOT, '..', 'shared', 'bench', 'postfix-reference.sh');

/** What the script sets up in POSTFIX_MODE=full (see its header). */
const SASL_USER = 'bench';
const SASL_PASSWORD = 'benchpass';
export const POSTFIX_DKIM_DOMAIN = 'source.test';
const DKIM_SELECTOR = 'bench';
/**
 * The script keeps its state in $PB_ROOT, which OpenDKIM's user must be able to traverse and which must not lie below
 * a directory others may write to (OpenDKIM refuses its key there), so not /tmp. A fresh directory per bench run keeps
 * it apart from anyone else's instance of the script.
 */
const STATE_PARENT = '/var/lib';
/** Generating the TLS and DKIM keys and starting Postfix and OpenDKIM takes a few seconds; stopping waits up to 25 s. */
const SCRIPT_TIMEOUT_MS = 120_000;

export interface PostfixReference {
  /** Starts it (once); the MTA to measure. */
  start(): Promise<MtaUnderTest>;
  /** Stops it and removes its state, after a start still in progress has ended; idempotent. */
  stop(): Promise<void>;
}

/**
 * The reference Postfix, run with `POSTFIX_MODE=full postfix-reference.sh start|status|stop`: STARTTLS required,
 * Cyrus SASL AUTH (bench / benchpass, realm relay.test), OpenDKIM over a unix socket signing d=source.test s=bench,
 * relaying everything to [127.0.0.1]:sinkPort. Mail must be From source.test to be signed. `stop` can be registered
 * for the teardown before `start` is called, so an interrupted start is cleaned up too.
 */
export function postfixReference(script: string, sinkPort: number): PostfixReference {
  let root: string | null = null;
  const env = (extra: Record<string, string> = {}) => ({ ...process.env, POSTFIX_MODE: 'full', PB_ROOT: root ?? '', ...extra });
  const call = (command: string, extra?: Record<string, string>) => runChecked(script, [command], { env: env(extra), timeoutMs: SCRIPT_TIMEOUT_MS });
  let starting: Promise<MtaUnderTest> | null = null;
  let stopped = false;
  const stop = async () => {
    await starting?.catch(() => undefined);
    if (stopped || root === null) return;
    stopped = true;
    try {
      await call('stop');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  };
  const start = async (): Promise<MtaUnderTest> => {
    if (!existsSync(script)) throw new Error(`the reference Postfix script ${script} does not exist (set it with --postfix-script or RELAYGATE_POSTFIX_REFERENCE)`);
    root = mkdtempSync(join(STATE_PARENT, 'relaygate-bench-'));
    chmodSync(root, 0o755);
    const port = await freePort('127.0.0.1');
    await call('start', { PF_PORT: String(port), PF_SINK_PORT: String(sinkPort) });
    // "status" prints the master's PID, then "opendkim PID".
    const [master, opendkim] = (await call('status')).trim().split('\n');
    const pids = [Number(master), Number(opendkim?.replace('opendkim ', ''))];
    if (!pids.every((pid) => Number.isSafeInteger(pid) && pid > 0)) throw new Error(`unexpected output of ${script} status: ${master}; ${opendkim}`);
    return {
      name: `Postfix ${await postfixVersion()} + OpenDKIM ${await openDkimVersion()} (reference)`,
      kind: 'postfix',
      ports: [port],
      user: SASL_USER,
      password: SASL_PASSWORD,
      dkimRecords: [readDkimRecord(join(root, 'postfix-full', 'opendkim', `${DKIM_SELECTOR}.txt`))],
      notes: [`${script}, POSTFIX_MODE=full: STARTTLS required, Cyrus SASL AUTH, OpenDKIM milter on a unix socket signing d=${POSTFIX_DKIM_DOMAIN} s=${DKIM_SELECTOR}`],
      // The master reaps every daemon it forks (its cutime holds them); OpenDKIM runs apart, in a session of its own.
      processRoots: () => pids,
      stop,
    };
  };
  return {
    start() {
      starting ??= start();
      return starting;
    },
    stop,
  };
}

/** The public key as opendkim-genkey writes it: `bench._domainkey IN TXT ( "v=DKIM1; ..." "p=..." "..." ) ; comment`. */
function readDkimRecord(file: string): DnsTxtRecord {
  const text = readFileSync(file, 'latin1');
  const value = [...text.slice(0, text.lastIndexOf(')')).matchAll(/"([^"]*)"/g)].map((match) => match[1]).join('');
  if (!value.includes('p=')) throw new Error(`no DKIM public key in ${file}`);
  return { name: `${DKIM_SELECTOR}._domainkey.${POSTFIX_DKIM_DOMAIN}`, value };
}

async function postfixVersion(): Promise<string> {
  return (await runChecked(findExecutable('postconf') ?? 'postconf', ['-d', '-h', 'mail_version'])).trim();
}

async function openDkimVersion(): Promise<string> {
  return /v(\d[\w.]*)/.exec(await runChecked(findExecutable('opendkim') ?? 'opendkim', ['-V']))?.[1] ?? 'unknown';
}
