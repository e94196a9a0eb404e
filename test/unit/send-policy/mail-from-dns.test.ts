import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createResolver } from '../../../src/delivery/mx/index.js';
import { findMailFromMx } from '../../../src/identity/dns-verification.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';

let dns: TestDnsServer;
before(async () => {
  dns = await startDnsServer();
});
after(() => dns.close());

const mailFrom = { domain: 'bounce.example.com', behaviorOnMxFailure: 'UseDefaultValue' as const, status: 'Pending' as const, pendingSince: null };

test('a custom MAIL FROM domain is verified by exactly one MX at the gateway and an SPF record', async () => {
  const resolver = createResolver({ servers: [dns.address], timeoutMs: 500, tries: 1 });
  dns.setZone({ 'bounce.example.com': { MX: [{ exchange: 'relay.test', priority: 10 }], TXT: ['v=spf1 ip4:192.0.2.10 ~all'] } });
  assert.equal(await findMailFromMx(mailFrom, 'relay.test', resolver), 'found');
  dns.setZone({ 'bounce.example.com': { MX: [{ exchange: 'relay.test', priority: 10 }] } });
  assert.equal(await findMailFromMx(mailFrom, 'relay.test', resolver), 'missing', 'no SPF record');
  dns.setZone({ 'bounce.example.com': { MX: [{ exchange: 'relay.test', priority: 10 }, { exchange: 'other.test', priority: 20 }], TXT: ['v=spf1 -all'] } });
  assert.equal(await findMailFromMx(mailFrom, 'relay.test', resolver), 'missing', 'two MX records');
  dns.setZone({ 'bounce.example.com': { MX: [{ exchange: 'elsewhere.test', priority: 10 }], TXT: ['v=spf1 -all'] } });
  assert.equal(await findMailFromMx(mailFrom, 'relay.test', resolver), 'missing', 'MX not at the gateway');
  dns.setZone({});
  assert.equal(await findMailFromMx(mailFrom, 'relay.test', resolver), 'missing', 'no such domain');
  dns.setZone({ 'bounce.example.com': { MX: [{ exchange: 'relay.test', priority: 10 }], TXT: ['v=spf1 -all'] } });
  dns.failWith('bounce.example.com', 'SERVFAIL');
  assert.equal(await findMailFromMx(mailFrom, 'relay.test', resolver), 'unknown', 'DNS could not tell');
});
