import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  createResolver,
  DeliveryResolutionError,
  resolveDeliveryTargets,
  type ResolveDeliveryTargetsOptions,
} from '../../../../src/delivery/mx/index.js';
import { startDnsServer, type TestDnsServer } from '../../../support/dns-server.js';

let server: TestDnsServer;
let options: ResolveDeliveryTargetsOptions;

before(async () => {
  server = await startDnsServer({
    'ordered.test': {
      MX: [
        { exchange: 'mx20.ordered.test', priority: 20 },
        { exchange: 'mx10.ordered.test', priority: 10 },
        { exchange: 'mx5.ordered.test', priority: 5 },
      ],
    },
    'mx5.ordered.test': { A: ['192.0.2.5'] },
    'mx10.ordered.test': { A: ['192.0.2.10'], AAAA: ['2001:db8::10'] },
    'mx20.ordered.test': { A: ['192.0.2.20'] },
    'equal.test': {
      MX: ['a', 'b', 'c'].map((host) => ({ exchange: `${host}.equal.test`, priority: 10 })).concat({
        exchange: 'backup.equal.test',
        priority: 20,
      }),
    },
    'a.equal.test': { A: ['192.0.2.1'] },
    'b.equal.test': { A: ['192.0.2.2'] },
    'c.equal.test': { A: ['192.0.2.3'] },
    'backup.equal.test': { A: ['192.0.2.4'] },
    'implicit.test': { A: ['192.0.2.30'], AAAA: ['2001:db8::30'], TXT: ['v=spf1 a -all'] },
    'bare.test': { TXT: ['no mail here'] },
    'null.test': { MX: [{ exchange: '.', priority: 0 }] },
    'servfail.test': { MX: [{ exchange: 'mx.servfail.test', priority: 10 }] },
    'partly.test': {
      MX: [
        { exchange: 'noaddress.partly.test', priority: 10 },
        { exchange: 'missing.partly.test', priority: 15 },
        { exchange: 'ok.partly.test', priority: 20 },
      ],
    },
    'noaddress.partly.test': { TXT: ['exists, but has no A record'] },
    'ok.partly.test': { A: ['192.0.2.40'] },
    'noaddresses.test': {
      MX: [
        { exchange: 'noaddress.partly.test', priority: 10 },
        { exchange: 'missing.partly.test', priority: 20 },
      ],
    },
    'dangling.test': { MX: [{ exchange: 'missing.dangling.test', priority: 10 }] },
    'flakyhost.test': {
      MX: [
        { exchange: 'flaky.flakyhost.test', priority: 10 },
        { exchange: 'noaddress.partly.test', priority: 20 },
      ],
    },
    'flaky.flakyhost.test': { A: ['8.8.8.8'] },
    'internal.test': {
      MX: [
        { exchange: 'loopback.internal.test', priority: 10 },
        { exchange: 'lan.internal.test', priority: 20 },
      ],
    },
    'loopback.internal.test': { A: ['127.0.0.2'] },
    'lan.internal.test': { A: ['10.1.2.3'], AAAA: ['fd00::1'] },
    'mixed.test': { MX: [{ exchange: 'mx.mixed.test', priority: 10 }] },
    'mx.mixed.test': { A: ['10.0.0.1', '8.8.4.4'] },
    'xn--bcher-kva.test': { A: ['192.0.2.50'] },
    'many.test': { MX: Array.from({ length: 30 }, (_, index) => ({ exchange: `mx${index}.many.test`, priority: index })) },
    ...Object.fromEntries(Array.from({ length: 30 }, (_, index) => [`mx${index}.many.test`, { A: [`192.0.2.${100 + 2 * index}`, `192.0.2.${101 + 2 * index}`] }])),
    'sparse.test': { MX: Array.from({ length: 30 }, (_, index) => ({ exchange: `h${index}.sparse.test`, priority: index })) },
    'h25.sparse.test': { A: ['192.0.2.99'] },
  });
  server.failWith('servfail.test', 'SERVFAIL');
  server.failWith('flaky.flakyhost.test', 'SERVFAIL');
  options = {
    resolver: createResolver({ servers: [server.address], timeoutMs: 100, tries: 1 }),
    allowPrivateAddresses: true,
  };
});

after(() => server.close());

async function assertResolutionError(
  domain: string,
  expected: { code: string; permanent: boolean; message?: RegExp },
  overrides: Partial<ResolveDeliveryTargetsOptions> = {},
): Promise<void> {
  await assert.rejects(resolveDeliveryTargets(domain, { ...options, ...overrides }), (error: unknown) => {
    assert.ok(error instanceof DeliveryResolutionError);
    assert.equal(error.code, expected.code);
    assert.equal(error.permanent, expected.permanent);
    if (expected.message) assert.match(error.message, expected.message);
    return true;
  });
}

test('orders MX hosts by preference and resolves their addresses', async () => {
  const targets = await resolveDeliveryTargets('Ordered.TEST', options);
  assert.deepEqual(targets, [
    { exchange: 'mx5.ordered.test', priority: 5, addresses: ['192.0.2.5'], implicit: false },
    { exchange: 'mx10.ordered.test', priority: 10, addresses: ['192.0.2.10'], implicit: false },
    { exchange: 'mx20.ordered.test', priority: 20, addresses: ['192.0.2.20'], implicit: false },
  ]);
});

test('adds IPv6 addresses after the IPv4 ones when ipv6 is enabled', async () => {
  const targets = await resolveDeliveryTargets('ordered.test', { ...options, ipv6: true });
  assert.deepEqual(targets[1]?.addresses, ['192.0.2.10', '2001:db8::10']);
  assert.deepEqual(targets[0]?.addresses, ['192.0.2.5']);
});

test('shuffles hosts of equal preference with the injected random function', async () => {
  const order = async (random: () => number) =>
    (await resolveDeliveryTargets('equal.test', { ...options, random })).map((target) => target.exchange);
  assert.deepEqual(await order(() => 0.999), ['a.equal.test', 'b.equal.test', 'c.equal.test', 'backup.equal.test']);
  assert.deepEqual(await order(() => 0), ['b.equal.test', 'c.equal.test', 'a.equal.test', 'backup.equal.test']);
});

test('falls back to the domain address records as an implicit MX', async () => {
  assert.deepEqual(await resolveDeliveryTargets('implicit.test', { ...options, ipv6: true }), [
    { exchange: 'implicit.test', priority: 0, addresses: ['192.0.2.30', '2001:db8::30'], implicit: true },
  ]);
});

test('converts an internationalized domain to its A-label', async () => {
  const [target] = await resolveDeliveryTargets('bücher.test', options);
  assert.equal(target?.exchange, 'xn--bcher-kva.test');
});

test('a domain without MX and address records is a permanent failure', async () => {
  await assertResolutionError('bare.test', {
    code: 'NO_MX_ADDRESSES',
    permanent: true,
    message: /^Domain bare\.test has no MX records and no usable address records$/,
  });
});

test('a null MX is a permanent failure', async () => {
  await assertResolutionError('null.test', {
    code: 'NULL_MX',
    permanent: true,
    message: /^Domain null\.test has a null MX record \(RFC 7505\)$/,
  });
});

test('NXDOMAIN is a permanent failure', async () => {
  await assertResolutionError('nonexistent.test', {
    code: 'NXDOMAIN',
    permanent: true,
    message: /^Domain nonexistent\.test does not exist \(NXDOMAIN\)$/,
  });
  await assertResolutionError('[192.0.2.1]', { code: 'NXDOMAIN', permanent: true, message: /not a valid domain/ });
});

test('SERVFAIL, REFUSED and timeouts are temporary failures', async () => {
  await assertResolutionError('servfail.test', { code: 'DNS_TEMPORARY', permanent: false, message: /ESERVFAIL/ });
  server.failWith('refused.test', 'REFUSED');
  await assertResolutionError('refused.test', { code: 'DNS_TEMPORARY', permanent: false, message: /EREFUSED/ });
  server.failWith('timeout.test', 'TIMEOUT');
  await assertResolutionError('timeout.test', { code: 'DNS_TEMPORARY', permanent: false, message: /ETIMEOUT/ });
});

test('skips MX hosts without addresses', async () => {
  const targets = await resolveDeliveryTargets('partly.test', options);
  assert.deepEqual(targets.map((target) => target.exchange), ['ok.partly.test']);
});

test('MX hosts without addresses are temporary, unless none of them exists', async () => {
  await assertResolutionError('noaddresses.test', {
    code: 'NO_MX_ADDRESSES',
    permanent: false,
    message: /noaddress\.partly\.test, missing\.partly\.test/,
  });
  await assertResolutionError('dangling.test', {
    code: 'NO_MX_ADDRESSES',
    permanent: true,
    message: /^None of the MX hosts of dangling\.test exist \(missing\.dangling\.test\)$/,
  });
});

test('a temporary failure of an MX host lookup makes an empty result temporary', async () => {
  await assertResolutionError('flakyhost.test', {
    code: 'DNS_TEMPORARY',
    permanent: false,
    message: /flaky\.flakyhost\.test: ESERVFAIL/,
  });
});

test('refuses non-public targets unless they are allowed', async () => {
  await assertResolutionError(
    'internal.test',
    {
      code: 'PRIVATE_TARGETS_REFUSED',
      permanent: true,
      message: /loopback\.internal\.test 127\.0\.0\.2 is loopback; lan\.internal\.test 10\.1\.2\.3 is private; lan\.internal\.test fd00::1 is private/,
    },
    { allowPrivateAddresses: false, ipv6: true },
  );
  const targets = await resolveDeliveryTargets('internal.test', options);
  assert.deepEqual(targets.map((target) => target.addresses), [['127.0.0.2'], ['10.1.2.3']]);
});

test('keeps the public addresses of a host that also has private ones', async () => {
  const targets = await resolveDeliveryTargets('mixed.test', { ...options, allowPrivateAddresses: false });
  assert.deepEqual(targets, [{ exchange: 'mx.mixed.test', priority: 10, addresses: ['8.8.4.4'], implicit: false }]);
});

/** The resolver, recording the names whose IPv4 addresses are asked for. */
function countingResolver(asked: string[]): ResolveDeliveryTargetsOptions['resolver'] {
  const resolver = createResolver({ servers: [server.address], timeoutMs: 100, tries: 1 });
  return new Proxy(resolver, {
    get: (target, property) =>
      property === 'resolve4'
        ? (name: string) => {
            asked.push(name);
            return target.resolve4(name);
          }
        : Reflect.get(target, property),
  });
}

test('a domain with many MX hosts: at most maxAddresses addresses, in preference order, and only the hosts needed looked up', async () => {
  const asked: string[] = [];
  const targets = await resolveDeliveryTargets('many.test', { ...options, resolver: countingResolver(asked), maxAddresses: 5 });
  assert.deepEqual(
    targets.map((target) => [target.exchange, target.addresses]),
    [
      ['mx0.many.test', ['192.0.2.100', '192.0.2.101']],
      ['mx1.many.test', ['192.0.2.102', '192.0.2.103']],
      ['mx2.many.test', ['192.0.2.104']],
    ],
  );
  assert.deepEqual(asked.sort(), ['mx0.many.test', 'mx1.many.test', 'mx2.many.test', 'mx3.many.test', 'mx4.many.test']);
});

test('hosts without addresses are passed over, but no more than the first 20 MX hosts are looked up', async () => {
  const asked: string[] = [];
  await assertResolutionError('sparse.test', { code: 'NO_MX_ADDRESSES', permanent: true }, { resolver: countingResolver(asked), maxAddresses: 5 });
  assert.equal(asked.length, 20, 'h25, the only host with an address, is past the first 20');
  assert.deepEqual([...new Set(asked)].length, 20);
});
