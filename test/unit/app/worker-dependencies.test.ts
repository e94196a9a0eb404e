import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const WORKER_SCRIPT = new URL('../../../src/app/workers/session-worker.js', import.meta.url).href;
/** Packages a session worker only needs for rare work (a report to read, Redis, AMQP, a certificate to make). */
const LOADED_ON_FIRST_USE = ['mailparser', 'ioredis', 'amqplib', 'selfsigned'];

test('a session worker starts without the packages it loads on first use; better-sqlite3 shows the check sees CommonJS packages', () => {
  // The worker's module graph, loaded in a process of its own (not a cluster worker, so it waits for nothing), then
  // the CommonJS packages it holds: the ones named above are all CommonJS, so they would be in require.cache.
  const script = `
    import { createRequire } from 'node:module';
    await import(${JSON.stringify(WORKER_SCRIPT)});
    const files = Object.keys(createRequire(import.meta.url).cache);
    const packages = new Set(files.map((file) => file.match(/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//)?.[1]));
    process.stdout.write(JSON.stringify([...packages].filter(Boolean).sort()));
    process.exit(0);`;
  const packages = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' })) as string[];
  assert.ok(packages.includes('better-sqlite3'), packages.join(' '));
  assert.deepEqual(LOADED_ON_FIRST_USE.filter((name) => packages.includes(name)), []);
});
