import assert from 'node:assert/strict';
import test from 'node:test';
import { nonPublicAddressReason } from '../../../../src/delivery/mx/index.js';

test('names the range of non-public addresses', () => {
  const cases: Array<[string, string | null]> = [
    ['8.8.8.8', null],
    ['2a00:1450:4001:800::200e', null],
    ['::ffff:8.8.8.8', null],
    ['0.0.0.0', 'unspecified'],
    ['127.0.0.2', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['10.20.30.40', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fd12:3456::1', 'private'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['fe80::1', 'link-local'],
    ['224.0.0.251', 'multicast'],
    ['ff02::1', 'multicast'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['::', 'unspecified'],
  ];
  for (const [address, reason] of cases) assert.equal(nonPublicAddressReason(address), reason, address);
});
