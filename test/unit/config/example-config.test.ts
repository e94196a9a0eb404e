import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { buildConfig, readConfigFile } from '../../../src/config/load.js';
import { REPO_ROOT } from '../../support/gateway-process.js';

test('the documented example configuration is valid and states the real defaults', () => {
  const fromExample = buildConfig(readConfigFile(join(REPO_ROOT, 'config', 'relaygate.example.yaml')));
  assert.deepEqual(fromExample, buildConfig({}));
});
