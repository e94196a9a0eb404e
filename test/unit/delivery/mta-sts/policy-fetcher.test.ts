import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { createResolver } from '../../../../src/delivery/mx/index.js';
import { createPolicyFetcher, type PolicyFetcherOptions } from '../../../../src/delivery/mta-sts/index.js';
import { startDnsServer, type TestDnsServer } from '../../../support/dns-server.js';
import { startPolicyServer, type TestPolicyServer } from '../../../support/mta-sts-policy-server.js';
import { unansweredAddress } from '../../../support/unanswered-address.js';
import { waitUntil } from '../../../support/wait-until.js';

const POLICY = 'version: STSv1\r\nmode: enforce\r\nmx: mx1.example.test\r\nmx: *.mail.example.test\r\nmax_age: 86400\r\n';

let dns: TestDnsServer;
let web: TestPolicyServer;

function fetcher(overrides: Partial<PolicyFetcherOptions> = {}) {
  return createPolicyFetcher({
    resolver: createResolver({ servers: [dns.address], timeoutMs: 200, tries: 1 }),
    port: web.port,
    ca: [web.certificate],
    ...overrides,
  });
}

before(async () => {
  dns = await startDnsServer();
  web = await startPolicyServer('127.0.0.1', ['example.test']);
});

beforeEach(() => {
  dns.setZone({
    'mta-sts.example.test': { A: ['127.0.0.1'] },
    'mta-sts.other.test': { A: ['127.0.0.1'] },
  });
  web.policies.clear();
  web.policies.set('example.test', POLICY);
  web.requests.length = 0;
  web.respond = undefined;
});

after(async () => {
  await Promise.all([web.close(), dns.close()]);
});

test('fetches the policy from https://mta-sts.DOMAIN/.well-known/mta-sts.txt with that server name', async () => {
  assert.deepEqual(await fetcher()('example.test'), {
    mode: 'enforce',
    mx: ['mx1.example.test', '*.mail.example.test'],
    maxAge: 86_400,
  });
  assert.deepEqual(web.requests, [
    { servername: 'mta-sts.example.test', host: 'mta-sts.example.test', path: '/.well-known/mta-sts.txt' },
  ]);
});

test('a domain whose policy host has no address has no policy', async () => {
  assert.equal(await fetcher()('nohost.test'), false);
  assert.deepEqual(web.requests, []);
});

test('a certificate that does not name mta-sts.DOMAIN or is not trusted fails the fetch', async () => {
  await assert.rejects(fetcher()('other.test'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  await assert.rejects(fetcher({ ca: undefined })('example.test'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' });
  assert.deepEqual(web.requests, []);
});

test('a redirect is not followed and any status but 200 fails the fetch', async () => {
  web.respond = (response) => response.writeHead(301, { location: 'https://mta-sts.example.test/moved.txt' }).end();
  await assert.rejects(fetcher()('example.test'), { message: 'MTA-STS policy fetch: HTTP status 301' });
  web.respond = undefined;
  web.policies.delete('example.test');
  await assert.rejects(fetcher()('example.test'), { message: 'MTA-STS policy fetch: HTTP status 404' });
  assert.deepEqual(
    web.requests.map((request) => request.path),
    ['/.well-known/mta-sts.txt', '/.well-known/mta-sts.txt'],
  );
});

test('a policy must be served as text/plain (RFC 8461 §3.3), its parameters aside', async () => {
  web.respond = (response) => response.writeHead(200, { 'content-type': 'text/html' }).end(POLICY);
  await assert.rejects(fetcher()('example.test'), { message: 'MTA-STS policy fetch: served as text/html, not text/plain' });
  web.respond = (response) => response.writeHead(200).end(POLICY);
  await assert.rejects(fetcher()('example.test'), { message: 'MTA-STS policy fetch: served as no media type, not text/plain' });
  web.respond = (response) => response.writeHead(200, { 'content-type': 'Text/Plain; charset=utf-8' }).end(POLICY);
  assert.equal((await fetcher()('example.test') as { mode: string }).mode, 'enforce');
});

test('a policy larger than the limit is refused, whether its length is declared or not', async () => {
  const tooLarge = { message: 'MTA-STS policy fetch: the policy is larger than 65536 bytes' };
  const huge = POLICY + 'mx: mx1.example.test\r\n'.repeat(50_000);
  web.policies.set('example.test', huge);
  await assert.rejects(fetcher()('example.test'), tooLarge);

  let written = 0;
  let closed = false;
  web.respond = (response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.on('close', () => (closed = true));
    const line = Buffer.from('mx: mx1.example.test\r\n'.repeat(1000));
    const writeMore = (): void => {
      while (!closed && written < 100 * 1024 * 1024 && response.write(line)) written += line.length;
      if (!closed) response.once('drain', writeMore);
    };
    writeMore();
  };
  await assert.rejects(fetcher()('example.test'), tooLarge);
  await waitUntil(() => closed, 'the server to see the connection closed');
  assert.ok(written < 10 * 1024 * 1024, `the fetcher hung up early, not after ${written} bytes`);

  web.respond = undefined;
  web.policies.set('example.test', POLICY + 'x'.repeat(65_536 - POLICY.length));
  const exactlyTheLimit = await fetcher()('example.test');
  assert.equal(exactlyTheLimit && exactlyTheLimit.maxAge, 86_400, 'a policy of exactly the limit is read');
});

test('a server that answers too slowly fails the fetch at the deadline', async () => {
  let timer: NodeJS.Timeout | undefined;
  web.respond = (response) => {
    response.writeHead(200, { 'content-type': 'text/plain' });
    timer = setInterval(() => response.write('\r\n'), 50);
    response.on('close', () => clearInterval(timer));
  };
  await assert.rejects(fetcher({ timeoutMs: 300 })('example.test'), {
    message: 'MTA-STS policy fetch: no complete answer within 300 ms',
  });
  clearInterval(timer);
});

test('a policy RFC 8461 says to ignore fails the fetch', async () => {
  web.policies.set('example.test', POLICY.replace('mode: enforce', 'mode: strict'));
  await assert.rejects(fetcher()('example.test'), { message: 'MTA-STS policy: mode is not enforce, testing or none' });
});

test('the policy host is looked up over IPv6 when it has no IPv4 address', async (t) => {
  const web6 = await startPolicyServer('::1', ['v6.example.test']).catch(() => undefined);
  if (!web6) return t.skip('no IPv6 loopback here');
  t.after(() => web6.close());
  dns.setRecords('mta-sts.v6.example.test', 'AAAA', ['::1']);
  web6.policies.set('v6.example.test', POLICY);
  const policy = await fetcher({ port: web6.port, ca: [web6.certificate] })('v6.example.test');
  assert.equal(policy && policy.mode, 'enforce');
  assert.equal(web6.requests.length, 1);
});

test('an address of the policy host that refuses the connection is passed over for the next; one that answers is not', async () => {
  // Nothing listens on 127.0.0.2 at the policy server's port.
  dns.setZone({ 'mta-sts.example.test': { A: ['127.0.0.2', '127.0.0.1'] }, 'mta-sts.other.test': { A: ['127.0.0.1', '127.0.0.2'] } });
  const policy = await fetcher()('example.test');
  assert.equal(policy && policy.mode, 'enforce');
  assert.equal(web.requests.length, 1);
  // The certificate of the first address's server does not name mta-sts.other.test: its answer stands.
  await assert.rejects(fetcher()('other.test'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
  dns.setZone({ 'mta-sts.example.test': { A: ['127.0.0.2', '127.0.0.3'] } });
  await assert.rejects(fetcher()('example.test'), { code: 'ECONNREFUSED', address: '127.0.0.3' });
});

test('an address of the policy host that never answers the connection gets its share of the time, then the next is tried', async () => {
  // 127.0.0.4 drops the connection's packets; the policy server listens on 127.0.0.1.
  const unanswered = await unansweredAddress('127.0.0.4', web.port);
  try {
    dns.setZone({ 'mta-sts.example.test': { A: ['127.0.0.4', '127.0.0.1'] } });
    const policy = await fetcher({ timeoutMs: 2000 })('example.test');
    assert.equal(policy && policy.mode, 'enforce');
    assert.equal(web.requests.length, 1);
    // Alone, or last, it has the whole deadline.
    dns.setZone({ 'mta-sts.example.test': { A: ['127.0.0.4'] } });
    await assert.rejects(fetcher({ timeoutMs: 500 })('example.test'), { message: 'MTA-STS policy fetch: no complete answer within 500 ms' });
    dns.setZone({ 'mta-sts.example.test': { A: ['127.0.0.4', '127.0.0.2'] } });
    await assert.rejects(fetcher({ timeoutMs: 1000 })('example.test'), { code: 'ECONNREFUSED', address: '127.0.0.2' });
  } finally {
    await unanswered.close();
  }
});
