import test from 'node:test';
import assert from 'node:assert/strict';
import { wildcardMatch } from '../../../src/policy/iam/wildcard.js';

test('wildcardMatch anchors at both ends and treats * and ? as globs', () => {
  assert.equal(wildcardMatch('*@example.com', 'a@example.com'), true);
  assert.equal(wildcardMatch('*@example.com', 'a@example.com.evil'), false);
  assert.equal(wildcardMatch('a*b*c', 'abc'), true);
  assert.equal(wildcardMatch('a*b*c', 'axxbyyc'), true);
  assert.equal(wildcardMatch('a*b*c', 'axxbyy'), false);
  assert.equal(wildcardMatch('?', ''), false);
  assert.equal(wildcardMatch('*', ''), true);
  assert.equal(wildcardMatch('a.c', 'abc'), false);
});

test('? matches one character even outside the Basic Multilingual Plane', () => {
  assert.equal(wildcardMatch('?@example.com', '😀@example.com'), true);
});

test('patterns with many stars stay fast on long non-matching text', () => {
  const started = performance.now();
  assert.equal(wildcardMatch('*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000)), false);
  assert.ok(performance.now() - started < 1000);
});
