import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createResolver } from '../../../src/delivery/mx/index.js';
import { startDnsServer, type TestDnsServer } from '../../support/dns-server.js';

const longKey = `v=DKIM1; k=rsa; p=${'A'.repeat(1500)}`;
let server: TestDnsServer;
let resolver: ReturnType<typeof createResolver>;

before(async () => {
  server = await startDnsServer({
    'Example.com': {
      MX: [{ exchange: 'mx1.example.com', priority: 10 }],
      A: ['192.0.2.1'],
      TXT: ['v=spf1 -all', ['two ', 'strings']],
    },
    'sel._domainkey.example.com': { TXT: [longKey] },
    'www.example.com': { CNAME: 'example.com' },
    'nomail.example.com': { MX: [{ exchange: '.', priority: 0 }] },
  });
  resolver = createResolver({ servers: [server.address], timeoutMs: 200, tries: 1 });
});

after(() => server.close());

test('answers records case-insensitively', async () => {
  assert.deepEqual(await resolver.resolveMx('EXAMPLE.com'), [{ exchange: 'mx1.example.com', priority: 10 }]);
  assert.deepEqual(await resolver.resolve4('example.com.'), ['192.0.2.1']);
  assert.match(server.address, /^127\.0\.0\.1:\d+$/);
  assert.equal(server.address, `127.0.0.1:${server.port}`);
});

test('splits long TXT strings into 255-byte chunks and serves large answers over TCP', async () => {
  const [record] = await resolver.resolveTxt('sel._domainkey.example.com');
  assert.ok(record);
  assert.equal(record.join(''), longKey);
  assert.ok(record.every((chunk) => Buffer.byteLength(chunk) <= 255));
  assert.deepEqual(await resolver.resolveTxt('example.com'), [['v=spf1 -all'], ['two ', 'strings']]);
});

test('follows CNAMEs inside the zone', async () => {
  assert.deepEqual(await resolver.resolve4('www.example.com'), ['192.0.2.1']);
  assert.deepEqual(await resolver.resolveCname('www.example.com'), ['example.com']);
});

test('represents a null MX', async () => {
  assert.deepEqual(await resolver.resolveMx('nomail.example.com'), [{ exchange: '', priority: 0 }]);
});

test('answers NXDOMAIN for unknown names and NODATA for missing types', async () => {
  await assert.rejects(resolver.resolve4('unknown.example.com'), { code: 'ENOTFOUND' });
  await assert.rejects(resolver.resolve6('example.com'), { code: 'ENODATA' });
});

test('setRecords and setZone change the answers', async () => {
  server.setRecords('new.example.com', 'AAAA', ['2001:db8::1']);
  assert.deepEqual(await resolver.resolve6('new.example.com'), ['2001:db8::1']);
  server.setZone({ 'other.example': { A: ['192.0.2.9'] } });
  assert.deepEqual(await resolver.resolve4('other.example'), ['192.0.2.9']);
  await assert.rejects(resolver.resolve4('example.com'), { code: 'ENOTFOUND' });
});

test('failWith simulates SERVFAIL, REFUSED and timeouts until healed', async () => {
  server.setRecords('flaky.example', 'A', ['192.0.2.7']);
  server.failWith('FLAKY.example', 'SERVFAIL');
  await assert.rejects(resolver.resolve4('flaky.example'), { code: 'ESERVFAIL' });
  server.failWith('flaky.example', 'REFUSED');
  await assert.rejects(resolver.resolve4('flaky.example'), { code: 'EREFUSED' });
  server.failWith('flaky.example', 'TIMEOUT');
  await assert.rejects(resolver.resolve4('flaky.example'), { code: 'ETIMEOUT' });
  server.failWith('flaky.example', null);
  assert.deepEqual(await resolver.resolve4('flaky.example'), ['192.0.2.7']);
});
