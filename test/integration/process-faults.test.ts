import test from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startGatewayProcess, tempDir, type GatewayProcess } from '../support/gateway-process.js';
import { SmtpDialog } from '../support/smtp-dialog.js';

/**
 * A defect on demand: preloaded into the gateway process, SIGUSR2 makes it reject a promise nobody awaits
 * (RELAYGATE_TEST_FAULT=rejection) or throw from a callback (exception), as a bug in the gateway would.
 */
function startFaultyGateway(fault: 'rejection' | 'exception'): Promise<GatewayProcess> {
  const preload = join(tempDir(), 'inject-fault.mjs');
  writeFileSync(
    preload,
    `process.on('SIGUSR2', () => {
       if (process.env.RELAYGATE_TEST_FAULT === 'rejection') Promise.reject(new Error('injected rejection'));
       else setImmediate(() => { throw new Error('injected exception'); });
     });\n`,
  );
  return startGatewayProcess({ listen: ['127.0.0.1:0=starttls'], env: { NODE_OPTIONS: `--import=${pathToFileURL(preload).href}`, RELAYGATE_TEST_FAULT: fault } });
}

const stderrOf = (gateway: GatewayProcess) => {
  let text = '';
  gateway.child.stderr!.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return () => text;
};

test('an unhandled rejection is logged with its error and the gateway keeps serving', async () => {
  const gateway = await startFaultyGateway('rejection');
  try {
    const stderr = stderrOf(gateway);
    gateway.child.kill('SIGUSR2');
    const logged = await gateway.waitForLog('unhandled promise rejection (a defect): its work was abandoned; the gateway keeps serving', 5000);
    assert.equal(logged.level, 50);
    assert.equal((logged.err as { message: string }).message, 'injected rejection');

    const dialog = await SmtpDialog.open({ port: gateway.starttlsPorts[0]! });
    assert.match((await dialog.reply())[0]!, /^220 /);
    assert.equal(await dialog.command('QUIT'), '221 Bye');
    dialog.close();
    assert.equal(gateway.child.exitCode, null);
    assert.equal(stderr(), '');
  } finally {
    await gateway.stop();
  }
});

test('an uncaught exception is logged, and the gateway exits with status 70 for systemd to restart it', async () => {
  const gateway = await startFaultyGateway('exception');
  try {
    const stderr = stderrOf(gateway);
    const exited = once(gateway.child, 'close');
    gateway.child.kill('SIGUSR2');
    const [code] = await Promise.race([exited, new Promise((_, reject) => setTimeout(() => reject(new Error('still running after 5 s')), 5000))]) as [number];
    assert.equal(code, 70);
    const logged = gateway.logs.find((record) => record.msg === 'uncaught exception (a defect): the process state is unknown; exiting for the service manager to restart the gateway');
    assert.ok(logged, JSON.stringify(gateway.logs.slice(-3)));
    assert.equal(logged.level, 60);
    assert.equal((logged.err as { message: string }).message, 'injected exception');
    assert.equal(stderr(), '');
  } finally {
    await gateway.kill();
  }
});
