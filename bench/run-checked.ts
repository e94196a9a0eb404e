import { run } from '../test/support/external-tools.js';

/** Runs a command and returns its standard output; a non-zero exit is an error that carries what it printed. */
export async function runChecked(command: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<string> {
  const result = await run(command, args, { timeoutMs: 60_000, ...options });
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${result.code}): ${`${result.stderr}${result.stdout}`.trim()}`);
  return result.stdout;
}
