import test from 'node:test';
import assert from 'node:assert/strict';
import { startGatewayProcess, tempDir } from '../support/gateway-process.js';
import { SmtpDialog } from '../support/smtp-dialog.js';
import { toolAvailable } from '../support/external-tools.js';


test('not allowed to bind ports below 1024: the default listeners move to 2525, 2587 and 2465, with one log line', { skip: !toolAvailable('setpriv') }, async () => {
  const gateway = await startGatewayProcess({ dataDir: tempDir(), listen: [], withoutLowPorts: true });
  try {
    const moved = gateway.logs.filter((record) => String(record.msg).startsWith('not allowed to bind privileged ports'));
    assert.equal(moved.length, 1);
    assert.equal(moved[0]!.msg, 'not allowed to bind privileged ports: default listeners moved to unprivileged ports (25→2525, 587→2587, 465→2465)');
    const listening = await gateway.waitForLog('relaygate listening');
    assert.deepEqual(listening.listeners, ['0.0.0.0:2525=starttls+intake', '0.0.0.0:2587=starttls', '0.0.0.0:2465=tls']);
    const dialog = await SmtpDialog.open({ port: 2525 });
    assert.match((await dialog.reply())[0]!, /^220 /);
    dialog.close();
  } finally {
    await gateway.stop();
  }
});
