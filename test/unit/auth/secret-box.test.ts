import test from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SecretBox } from '../../../src/auth/secret-box.js';
import { tempDir } from '../../support/gateway-process.js';

const run = promisify(execFile);
const MODULE = new URL('../../../src/auth/secret-box.js', import.meta.url).href;

test('processes creating the key file at once (session workers) all get the one key, and nothing else is left beside it', async () => {
  const dir = tempDir();
  const path = join(dir, 'keys', 'secret.key');
  const script = `const { SecretBox } = await import(${JSON.stringify(MODULE)}); process.stdout.write(SecretBox.open(${JSON.stringify(path)}).seal('the secret', 'AKIAEXAMPLE'));`;
  const sealed = await Promise.all(Array.from({ length: 8 }, () => run(process.execPath, ['--input-type=module', '-e', script]).then(({ stdout }) => stdout)));
  const box = SecretBox.open(path);
  for (const text of sealed) assert.equal(box.open(text, 'AKIAEXAMPLE'), 'the secret');
  assert.deepEqual(readdirSync(join(dir, 'keys')), ['secret.key']);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});
