import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';

export interface Cidr {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses `ADDRESS/PREFIX` (a bare address means a single host). */
export function parseCidr(text: string, option: string): Cidr {
  const [address = '', prefixText] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0) throw new ConfigError(option, `"${text}" is not an IP address or CIDR network`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw new ConfigError(option, `"${text}" has an invalid prefix length (0-${max})`);
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}
