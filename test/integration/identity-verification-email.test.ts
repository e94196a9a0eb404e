import test from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startGatewayProcess, RELAYGATE_BIN } from '../support/gateway-process.js';
import { run } from '../support/external-tools.js';
import { startDnsServer } from '../support/dns-server.js';
import { startSinkMx } from '../support/sink-mx.js';
import { testDeliveryConfig } from '../support/delivery-fixture.js';

test("an email identity's verification message goes out through the delivery engine; its token confirms the address", async () => {
  const sink = await startSinkMx({ host: '127.0.0.2' });
  const dns = await startDnsServer({ 'example.org': { MX: [{ exchange: 'mx.example.org', priority: 10 }] }, 'mx.example.org': { A: ['127.0.0.2'] } });
  const gateway = await startGatewayProcess({ config: { smtp: { hostname: 'relay.test' }, ...testDeliveryConfig(dns, sink.port) }, listen: ['127.0.0.1:0=tls'] });
  const cli = async (...args: string[]) => {
    const result = await run(process.execPath, [RELAYGATE_BIN, '--data-dir', gateway.dataDir, '--config', join(gateway.dataDir, 'relaygate.yaml'), ...args]);
    assert.equal(result.code, 0, result.stderr);
    return result.stdout;
  };
  try {
    await cli('account', 'create', '--id', '123412341234');
    const created = await cli('identity', 'create', 'alice@example.org', '--account', '123412341234');
    assert.match(created, /A verification message with the confirmation token was queued to alice@example\.org \(message \S+\)/);
    const [message] = await sink.waitForMessages(1, 15_000);
    assert.deepEqual(message!.rcptTo, ['alice@example.org']);
    const raw = message!.raw.toString('latin1');
    assert.match(raw, /^Subject: Email address verification request in region us-east-1\r$/m);
    assert.match(raw, /^From: relaygate <no-reply@relay\.test>\r$/m);
    const token = /relaygate identity confirm alice@example\.org ([0-9a-f]{32}) --account 123412341234/.exec(raw)?.[1];
    assert.ok(token, raw);
    assert.equal(await cli('identity', 'confirm', 'alice@example.org', token, '--account', '123412341234'), 'alice@example.org is verified\n');
  } finally {
    await gateway.stop();
    await sink.close();
    await dns.close();
  }
});
