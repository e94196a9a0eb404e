import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run } from '../test/support/external-tools.js';
import { runChecked } from './run-checked.js';

export interface Tool {
  command: string;
  /** The Debian package that has it. */
  package: string;
}

/** The sink both MTAs deliver to. */
export const SINK_TOOLS: readonly Tool[] = [{ command: 'smtp-sink', package: 'postfix' }];

/** The SES-like Postfix: the MTA, its SASL password database tool and the DKIM milter. */
export const POSTFIX_TOOLS: readonly Tool[] = [
  { command: 'postfix', package: 'postfix' },
  { command: 'saslpasswd2', package: 'sasl2-bin' },
  { command: 'opendkim', package: 'opendkim' },
];

/** Daemons live in sbin, which a non-root PATH often lacks. */
const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

export function missingTools(tools: readonly Tool[]): Tool[] {
  return tools.filter((tool) => findExecutable(tool.command) === null);
}

export function findExecutable(command: string): string | null {
  for (const directory of [...(process.env.PATH ?? '').split(delimiter), ...SBIN]) {
    const path = join(directory, command);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return null;
}

export function installCommand(tools: readonly Tool[]): string {
  return `apt-get install -y --no-install-recommends ${packagesOf(tools).join(' ')}`;
}

function packagesOf(tools: readonly Tool[]): string[] {
  return [...new Set(tools.map((tool) => tool.package))];
}

/**
 * Installs the packages with apt-get. Postfix's package asks how to configure the system's mail service; "No
 * configuration" leaves the system alone (the bench runs its own private instance).
 */
export async function installTools(tools: readonly Tool[], progress: (line: string) => void): Promise<void> {
  const packages = packagesOf(tools);
  if (packages.length === 0) return;
  if (process.getuid?.() !== 0) throw new Error(`--install needs root; run as root: ${installCommand(tools)}`);
  progress(`installing ${packages.join(', ')} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (packages.includes('postfix')) {
    await runChecked('debconf-set-selections', [], { input: 'postfix postfix/main_mailer_type select No configuration\n', env });
  }
  const install = await run('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, timeoutMs: 300_000 });
  if (install.code !== 0) {
    // A machine that has never fetched the package lists cannot find anything.
    progress('apt-get install failed; running apt-get update and trying again');
    await runChecked('apt-get', ['update'], { env, timeoutMs: 300_000 });
    await runChecked('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { env, timeoutMs: 300_000 });
  }
  const still = missingTools(tools);
  if (still.length > 0) throw new Error(`still missing after installing: ${still.map((tool) => tool.command).join(', ')}`);
}

/**
 * Makes sure the sink is there and decides whether the Postfix comparison runs: returns why it is skipped, or null
 * when it runs. With `install`, what is missing is installed; a comparison asked for explicitly that cannot run is
 * an error.
 */
export async function planTools(options: { comparePostfix: boolean | null; install: boolean }, progress: (line: string) => void): Promise<string | null> {
  let skip =
    options.comparePostfix === false
      ? 'not asked for (--no-compare-postfix)'
      : process.getuid?.() !== 0
        ? 'it needs root (the private Postfix instance is started with `postfix start`)'
        : null;
  let missing = missingTools(skip === null ? [...SINK_TOOLS, ...POSTFIX_TOOLS] : SINK_TOOLS);
  if (missing.length > 0 && options.install) {
    await installTools(missing, progress);
    missing = [];
  }
  const sinkMissing = missing.filter((tool) => SINK_TOOLS.includes(tool));
  if (sinkMissing.length > 0) throw new Error(`smtp-sink is needed as the MX both MTAs deliver to; install it with: ${installCommand(sinkMissing)} (or run the bench with --install)`);
  if (skip === null && missing.length > 0) {
    skip = `${missing.map((tool) => tool.command).join(', ')} not installed (install with: ${installCommand(missing)}, or run the bench with --install)`;
  }
  if (skip !== null && options.comparePostfix === true) throw new Error(`--compare-postfix: ${skip}`);
  return skip;
}
