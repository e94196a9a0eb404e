import assert from 'node:assert/strict';
import { run, type RunResult } from './external-tools.js';
import { RELAYGATE_BIN } from './gateway-process.js';

/** Runs `relaygate --data-dir DIR ARGS…` as an operator would, without a configuration file from the environment. */
export function cli(dataDir: string, ...args: string[]): Promise<RunResult> {
  return run(process.execPath, [RELAYGATE_BIN, '--data-dir', dataDir, ...args], { env: { ...process.env, RELAYGATE_CONFIG: '' } });
}

/** The command's --json output, after checking that it succeeded. */
export async function cliJson<T>(dataDir: string, ...args: string[]): Promise<T> {
  const result = await cli(dataDir, ...args, '--json');
  assert.equal(result.code, 0, result.stderr);
  return JSON.parse(result.stdout) as T;
}
