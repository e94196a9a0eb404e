import { BlockList, isIPv4 } from 'node:net';

/** Ranges a public MX never legitimately points to; delivering there would reach our own or a neighbour's network. */
const NON_PUBLIC_RANGES: ReadonlyArray<[reason: string, network: string, prefix: number]> = [
  ['unspecified', '0.0.0.0', 8],
  ['private', '10.0.0.0', 8],
  ['carrier-grade NAT', '100.64.0.0', 10],
  ['loopback', '127.0.0.0', 8],
  ['link-local', '169.254.0.0', 16],
  ['private', '172.16.0.0', 12],
  ['reserved', '192.0.0.0', 24],
  ['reserved', '192.0.2.0', 24],
  ['private', '192.168.0.0', 16],
  ['reserved', '198.18.0.0', 15],
  ['reserved', '198.51.100.0', 24],
  ['reserved', '203.0.113.0', 24],
  ['multicast', '224.0.0.0', 4],
  ['reserved', '240.0.0.0', 4],
  ['unspecified', '::', 128],
  ['loopback', '::1', 128],
  ['reserved', '100::', 64],
  ['reserved', '2001:db8::', 32],
  ['private', 'fc00::', 7],
  ['link-local', 'fe80::', 10],
  ['reserved', 'fec0::', 10],
  ['multicast', 'ff00::', 8],
];

const blockListsByReason = new Map<string, BlockList>();
for (const [reason, network, prefix] of NON_PUBLIC_RANGES) {
  let list = blockListsByReason.get(reason);
  if (!list) blockListsByReason.set(reason, (list = new BlockList()));
  list.addSubnet(network, prefix, isIPv4(network) ? 'ipv4' : 'ipv6');
}

/**
 * Why `address` is not a public unicast address (e.g. 'loopback'), or null when it is public.
 * IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) are judged by their IPv4 ranges: BlockList does that itself.
 */
export function nonPublicAddressReason(address: string): string | null {
  const family = isIPv4(address) ? 'ipv4' : 'ipv6';
  for (const [reason, list] of blockListsByReason) {
    if (list.check(address, family)) return reason;
  }
  return null;
}
