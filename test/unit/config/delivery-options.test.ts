import test from 'node:test';
import assert from 'node:assert/strict';
import { buildConfig } from '../../../src/config/load.js';

test('delivery defaults: port 25, public MX only, 1 minute doubling to 1 hour, 5 days, 45-day warm-up, feedback domain = hostname', () => {
  const { delivery } = buildConfig({ smtp: { hostname: 'smtp.example.net' } });
  assert.deepEqual(delivery, {
    enabled: true,
    port: 25,
    allowPrivateAddresses: false,
    retry: { firstDelaySeconds: 60, maxDelaySeconds: 3600 },
    queueLifetimeHours: 120,
    completedRetentionHours: 168,
    maxMxAddresses: 5,
    connectTimeoutMs: 30_000,
    greetingTimeoutMs: 300_000,
    dataTimeoutMs: 600_000,
    maxConnections: 20,
    messagesPerConnection: 100,
    messagesPerSecond: 0,
    pools: {},
    defaultPool: 'default',
    shaping: [],
    warmup: { days: 45, firstDayLimit: 50, lastDayLimit: 20_000 },
    feedbackDomain: 'smtp.example.net',
    dkim: null,
  });
});

test('pools, shaping rules (limits default to the section’s own) and the gateway DKIM key', () => {
  const { delivery } = buildConfig({
    smtp: { hostname: 'smtp.example.net' },
    delivery: {
      maxConnections: 5,
      pools: { default: { addresses: [{ address: '192.0.2.1', ehloName: 'mta1.example.net' }, { address: '2001:db8::1', warmup: true }] }, bulk: { addresses: [{ address: '192.0.2.2', warmup: { startedOn: '2026-11-01' } }] } },
      shaping: [{ match: { mxSuffix: '.Google.com' }, messagesPerSecond: 20 }],
      dkim: { domain: 'Relay.Example.net', selector: 'rg1', keyFile: '/etc/relaygate/dkim.key' },
    },
  });
  assert.deepEqual(delivery.pools, {
    default: {
      addresses: [
        { address: '192.0.2.1', ehloName: 'mta1.example.net', warmup: null },
        { address: '2001:db8::1', ehloName: 'smtp.example.net', warmup: { startedOn: null } },
      ],
    },
    bulk: { addresses: [{ address: '192.0.2.2', ehloName: 'smtp.example.net', warmup: { startedOn: '2026-11-01' } }] },
  });
  assert.deepEqual(delivery.shaping, [{ match: { domain: null, mxSuffix: '.google.com' }, maxConnections: 5, messagesPerConnection: 100, messagesPerSecond: 20 }]);
  assert.deepEqual(delivery.dkim, { domain: 'relay.example.net', selector: 'rg1', keyFile: '/etc/relaygate/dkim.key' });
});

const ERRORS: Array<[string, unknown, string]> = [
  ['not an address', { pools: { default: { addresses: [{ address: 'mta1' }] } } }, 'delivery.pools.default.addresses[0].address: "mta1" is not an IP address'],
  ['empty pool', { pools: { default: { addresses: [] } } }, 'delivery.pools.default.addresses: a pool needs at least one address'],
  ['pool name', { pools: { Default: { addresses: [{ address: '192.0.2.1' }] } } }, 'delivery.pools.Default: pool names are 1 to 64 lowercase letters, digits, ".", "_" or "-"'],
  ['address in two pools', { pools: { default: { addresses: [{ address: '192.0.2.1' }] }, bulk: { addresses: [{ address: '192.0.2.1' }] } } }, 'delivery.pools.bulk: address 192.0.2.1 is already in pool default'],
  ['default pool missing', { pools: { bulk: { addresses: [{ address: '192.0.2.1' }] } } }, 'delivery.defaultPool: names no pool in delivery.pools (bulk)'],
  ['warm-up date', { pools: { default: { addresses: [{ address: '192.0.2.1', warmup: { startedOn: '1.11.2026' } }] } } }, 'delivery.pools.default.addresses[0].warmup.startedOn: must be a date as YYYY-MM-DD, got "1.11.2026"'],
  ['rule without match', { shaping: [{ maxConnections: 1 }] }, 'delivery.shaping[0].match: needs domain or mxSuffix'],
  ['rule option', { shaping: [{ match: { domain: 'example.com' }, maxConnection: 1 }] }, 'delivery.shaping[0].maxConnection: unknown option'],
  ['retry ceiling', { retry: { firstDelaySeconds: 600, maxDelaySeconds: 60 } }, 'delivery.retry.maxDelaySeconds: must not be less than firstDelaySeconds'],
  ['partial DKIM', { dkim: { domain: 'relay.example.net' } }, 'delivery.dkim.domain: domain, selector and keyFile are all needed for the gateway DKIM signature'],
  ['boolean', { allowPrivateAddresses: 'yes' }, 'delivery.allowPrivateAddresses: must be true or false, got "yes"'],
];

for (const [name, delivery, message] of ERRORS) {
  test(`delivery configuration error names the option: ${name}`, () => {
    assert.throws(() => buildConfig({ delivery }), { message: `configuration option ${message}` });
  });
}
