import { accessSync, constants, existsSync, readdirSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { run } from '../test/support/external-tools.js';
import { runChecked } from './run-checked.js';

export interface Tool {
  /** What is needed, in words (a command name, mostly). */
  name: string;
  /** The Debian package that has it. */
  package: string;
  present(): boolean;
}

const command = (name: string, debianPackage: string): Tool => ({ name, package: debianPackage, present: () => findExecutable(name) !== null });

/** What the reference Postfix script needs (its header): the MTA, Cyrus SASL with the PLAIN plugin, OpenDKIM, openssl. */
export const POSTFIX_TOOLS: readonly Tool[] = [
  command('postfix', 'postfix'),
  command('saslpasswd2', 'sasl2-bin'),
  { name: 'the Cyrus SASL PLAIN plugin', package: 'libsasl2-modules', present: saslPlainPluginPresent },
  command('opendkim', 'opendkim'),
  command('opendkim-genkey', 'opendkim-tools'),
  command('openssl', 'openssl'),
];

/** Daemons live in sbin, which a non-root PATH often lacks. */
const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

export function missingTools(tools: readonly Tool[]): Tool[] {
  return tools.filter((tool) => !tool.present());
}

export function findExecutable(name: string): string | null {
  for (const directory of [...(process.env.PATH ?? '').split(delimiter), ...SBIN]) {
    const path = join(directory, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Cyrus SASL looks for its plugins in /usr/lib/sasl2 or, on Debian, /usr/lib/<multiarch triplet>/sasl2. */
function saslPlainPluginPresent(): boolean {
  const directories = ['/usr/lib/sasl2', ...readdirSync('/usr/lib').map((entry) => join('/usr/lib', entry, 'sasl2'))];
  return directories.some((directory) => existsSync(join(directory, 'libplain.so')) || existsSync(join(directory, 'libplain.so.2')));
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
  if (still.length > 0) throw new Error(`still missing after installing: ${still.map((tool) => tool.name).join(', ')}`);
}

/**
 * Decides whether the Postfix comparison runs: returns why it is skipped, or null when it runs. With `install`, what
 * is missing is installed; a comparison asked for explicitly that cannot run is an error.
 */
export async function planPostfix(options: { comparePostfix: boolean | null; install: boolean; postfixScript: string }, progress: (line: string) => void): Promise<string | null> {
  let skip =
    options.comparePostfix === false
      ? 'not asked for (--no-compare-postfix)'
      : process.getuid?.() !== 0
        ? 'it needs root (the reference script starts a private Postfix instance and OpenDKIM)'
        : !existsSync(options.postfixScript)
          ? `the reference script ${options.postfixScript} does not exist (point --postfix-script or RELAYGATE_POSTFIX_REFERENCE at ../shared/bench/postfix-reference.sh)`
          : null;
  if (skip === null) {
    let missing = missingTools(POSTFIX_TOOLS);
    if (missing.length > 0 && options.install) {
      await installTools(missing, progress);
      missing = [];
    }
    if (missing.length > 0) skip = `${missing.map((tool) => tool.name).join(', ')} not installed (install with: ${installCommand(missing)}, or run the bench with --install)`;
  }
  if (skip !== null && options.comparePostfix === true) throw new Error(`--compare-postfix: ${skip}`);
  return skip;
}
