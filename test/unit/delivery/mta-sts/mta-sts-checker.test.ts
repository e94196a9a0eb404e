import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { createResolver } from '../../../../src/delivery/mx/index.js';
import { createMtaStsChecker, parsePolicyText, type MtaStsCheckerOptions } from '../../../../src/delivery/mta-sts/index.js';
import { startDnsServer, type TestDnsServer } from '../../../support/dns-server.js';

const MAX_AGE_S = 86_400;
const RECHECK_MS = 60_000;
const RETRY_MS = 300_000;

let server: TestDnsServer;
let clock: number;
let policyText: string;
let fetches: string[];
let fetchFails: boolean;

const enforcePolicy = (mx: string[]) =>
  ['version: STSv1', 'mode: enforce', ...mx.map((host) => `mx: ${host}`), `max_age: ${MAX_AGE_S}`, ''].join('\r\n');

function checker(overrides: Partial<MtaStsCheckerOptions> = {}) {
  return createMtaStsChecker({
    resolver: createResolver({ servers: [server.address], timeoutMs: 100, tries: 1 }),
    fetchPolicy: async (domain) => {
      fetches.push(domain);
      await new Promise((resolve) => setImmediate(resolve));
      if (fetchFails) throw new Error('connect ECONNREFUSED');
      return parsePolicyText(policyText);
    },
    now: () => clock,
    recheckIntervalMs: RECHECK_MS,
    fetchRetryMs: RETRY_MS,
    ...overrides,
  });
}

function publishId(id: string): void {
  server.setRecords('_mta-sts.example.com', 'TXT', [`v=STSv1; id=${id};`]);
}

before(async () => {
  server = await startDnsServer();
});

beforeEach(() => {
  server.setZone({ 'example.com': { MX: [{ exchange: 'mx1.example.com', priority: 10 }] } });
  publishId('20240101');
  clock = 1_700_000_000_000;
  policyText = enforcePolicy(['mx1.example.com', '*.mail.example.com']);
  fetches = [];
  fetchFails = false;
});

after(() => server.close());

test('fetches the policy announced by the _mta-sts TXT record', async () => {
  const mtaSts = checker();
  assert.deepEqual(await mtaSts.policyFor('Example.com'), {
    mode: 'enforce',
    mx: ['mx1.example.com', '*.mail.example.com'],
  });
  assert.deepEqual(fetches, ['example.com']);
});

test('a domain without a TXT record has no policy and nothing is fetched', async () => {
  assert.equal(await checker().policyFor('nosts.example'), null);
  assert.deepEqual(fetches, []);
});

test('re-fetches only when the id changes or the policy expired', async () => {
  const mtaSts = checker();
  await mtaSts.policyFor('example.com');
  clock += RECHECK_MS + 1;
  await mtaSts.policyFor('example.com');
  assert.equal(fetches.length, 1, 'same id, not expired');

  publishId('20240202');
  policyText = enforcePolicy(['mx2.example.com']);
  await mtaSts.policyFor('example.com');
  assert.equal(fetches.length, 1, 'the id is not looked up again within the recheck interval');
  clock += RECHECK_MS + 1;
  assert.deepEqual((await mtaSts.policyFor('example.com'))?.mx, ['mx2.example.com']);
  assert.equal(fetches.length, 2, 'new id');

  clock += MAX_AGE_S * 1000;
  await mtaSts.policyFor('example.com');
  assert.equal(fetches.length, 3, 'expired');
});

test('keeps applying an unexpired cached policy when no live policy can be discovered', async () => {
  const mtaSts = checker();
  await mtaSts.policyFor('example.com');

  server.failWith('_mta-sts.example.com', 'SERVFAIL');
  clock += RECHECK_MS + 1;
  assert.equal((await mtaSts.policyFor('example.com'))?.mode, 'enforce');

  server.failWith('_mta-sts.example.com', null);
  server.setRecords('_mta-sts.example.com', 'TXT', []);
  clock += RECHECK_MS + 1;
  assert.equal((await mtaSts.policyFor('example.com'))?.mode, 'enforce');

  publishId('20240303');
  fetchFails = true;
  clock += RECHECK_MS + 1;
  assert.equal((await mtaSts.policyFor('example.com'))?.mode, 'enforce');

  clock += MAX_AGE_S * 1000;
  assert.equal(await mtaSts.policyFor('example.com'), null);
});

test('waits before fetching a policy again after a failed fetch', async () => {
  fetchFails = true;
  const mtaSts = checker();
  assert.equal(await mtaSts.policyFor('example.com'), null);
  assert.equal(await mtaSts.policyFor('example.com'), null);
  assert.equal(fetches.length, 1);

  fetchFails = false;
  clock += RETRY_MS + 1;
  assert.equal((await mtaSts.policyFor('example.com'))?.mode, 'enforce');
  assert.equal(fetches.length, 2);
});

test('concurrent lookups for a domain share one fetch', async () => {
  const mtaSts = checker();
  const policies = await Promise.all([mtaSts.policyFor('example.com'), mtaSts.policyFor('EXAMPLE.com.')]);
  assert.equal(fetches.length, 1);
  assert.deepEqual(policies[0], policies[1]);
});

test('an enforce policy allows only the MX hosts it lists', async () => {
  const mtaSts = checker();
  const verdict = (mx: string) => mtaSts.allows('example.com', mx);
  assert.deepEqual(await verdict('MX1.example.com.'), { allowed: true, mode: 'enforce', mxMatches: true });
  assert.deepEqual(await verdict('a.mail.example.com'), { allowed: true, mode: 'enforce', mxMatches: true });
  assert.deepEqual(await verdict('a.b.mail.example.com'), { allowed: false, mode: 'enforce', mxMatches: false });
  assert.deepEqual(await verdict('mx.attacker.example'), { allowed: false, mode: 'enforce', mxMatches: false });
});

test('a testing policy allows any MX but reports the mismatch', async () => {
  policyText = policyText.replace('mode: enforce', 'mode: testing');
  assert.deepEqual(await checker().allows('example.com', 'mx.attacker.example'), {
    allowed: true,
    mode: 'testing',
    mxMatches: false,
  });
});

test('no policy or mode none allows every MX', async () => {
  assert.deepEqual(await checker().allows('nosts.example', 'anything.example'), {
    allowed: true,
    mode: 'none',
    mxMatches: true,
  });
  policyText = 'version: STSv1\nmode: none\nmax_age: 600\n';
  const mtaSts = checker();
  assert.deepEqual(await mtaSts.policyFor('example.com'), { mode: 'none', mx: [] });
  assert.deepEqual(await mtaSts.allows('example.com', 'anything.example'), { allowed: true, mode: 'none', mxMatches: true });
});

test('the default fetcher finds no policy when the policy host does not exist', async () => {
  const mtaSts = checker({ fetchPolicy: undefined });
  assert.equal(await mtaSts.policyFor('example.com'), null);
});

test('a domain without a policy is asked about once per recheck interval, not once per message', async () => {
  server.setZone({ 'example.com': { MX: [{ exchange: 'mx1.example.com', priority: 10 }] } });
  const resolver = createResolver({ servers: [server.address], timeoutMs: 100, tries: 1 });
  const asked: string[] = [];
  const counting = new Proxy(resolver, {
    get: (target, property) =>
      property === 'resolve'
        ? (name: string, type: string) => {
            asked.push(`${name} ${type}`);
            return target.resolve(name, type as 'TXT');
          }
        : Reflect.get(target, property),
  });
  const mtaSts = checker({ resolver: counting });
  assert.equal(await mtaSts.policyFor('example.com'), null);
  assert.equal(await mtaSts.policyFor('example.com'), null);
  assert.deepEqual(asked, ['_mta-sts.example.com TXT']);
  publishId('20250101');
  clock += RECHECK_MS - 1;
  assert.equal(await mtaSts.policyFor('example.com'), null, 'still within the interval');
  clock += 1;
  assert.equal((await mtaSts.policyFor('example.com'))?.mode, 'enforce', 'a policy published since is found at the next check');
  assert.equal(asked.length, 2);
});

test('remembers at most maxDomains policies, forgetting the least recently fetched first', async () => {
  for (const domain of ['a.example', 'b.example', 'c.example']) {
    server.setRecords(`_mta-sts.${domain}`, 'TXT', ['v=STSv1; id=1;']);
  }
  const mtaSts = checker({ maxDomains: 2 });
  for (const domain of ['a.example', 'b.example', 'c.example', 'b.example', 'c.example']) {
    assert.equal((await mtaSts.policyFor(domain))?.mode, 'enforce');
  }
  assert.deepEqual(fetches, ['a.example', 'b.example', 'c.example'], 'b and c are still cached');
  assert.equal((await mtaSts.policyFor('a.example'))?.mode, 'enforce');
  assert.deepEqual(fetches.slice(3), ['a.example'], 'a was forgotten when c came');
});
