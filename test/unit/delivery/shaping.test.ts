import test from 'node:test';
import assert from 'node:assert/strict';
import { shapingFor } from '../../../src/delivery/shaping.js';
import type { ShapingRuleConfig } from '../../../src/config/schema.js';

const defaults = { maxConnections: 20, messagesPerConnection: 100, messagesPerSecond: 0 };
const rule = (match: Partial<ShapingRuleConfig['match']>, maxConnections: number): ShapingRuleConfig => ({ ...defaults, match: { domain: null, mxSuffix: null, ...match }, maxConnections });
const rules = [rule({ domain: 'example.com' }, 1), rule({ domain: '*.example.org' }, 2), rule({ mxSuffix: '.google.com' }, 3), rule({ domain: 'both.test', mxSuffix: '.provider.test' }, 4)];

test('a rule matches by domain, by subdomain wildcard or by MX host suffix; its key is shared by every domain it matches', () => {
  const pick = (domain: string, hosts: string[]) => {
    const shaping = shapingFor(domain, hosts, hosts.join(','), rules, defaults);
    return [shaping.key, shaping.limits.maxConnections];
  };
  assert.deepEqual(pick('example.com', ['mx.example.com']), ['rule 0', 1]);
  assert.deepEqual(pick('sub.example.org', ['mx.sub.example.org']), ['rule 1', 2]);
  assert.deepEqual(pick('example.org', ['mx.example.org']), ['site mx.example.org', 20], '*.example.org does not match example.org itself');
  assert.deepEqual(pick('customer-a.test', ['aspmx.l.google.com', 'alt1.aspmx.l.google.com']), ['rule 2', 3]);
  assert.deepEqual(pick('customer-b.test', ['alt2.aspmx.l.google.com']), ['rule 2', 3]);
  assert.deepEqual(pick('both.test', ['mx.elsewhere.test']), ['site mx.elsewhere.test', 20], 'every condition of a rule must hold');
  assert.deepEqual(pick('both.test', ['mx1.provider.test']), ['rule 3', 4]);
  assert.deepEqual(pick('example.com', ['aspmx.l.google.com']), ['rule 0', 1], 'the first matching rule wins');
});
