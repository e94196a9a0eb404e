import { isIP } from 'node:net';
import type { GatewayConfig } from '../config/schema.js';
import type { MailFromTargets } from './dns-records.js';

/**
 * Where a custom MAIL FROM domain points: its MX at the gateway (bounces come back here) and an SPF
 * record listing the configured sending addresses, or the gateway's own name when none are configured.
 */
export function mailFromTargets(config: GatewayConfig): MailFromTargets {
  const addresses = [...new Set(Object.values(config.delivery.pools).flatMap((pool) => pool.addresses.map((source) => source.address)))];
  const mechanisms = addresses.length > 0 ? addresses.map((address) => `${isIP(address) === 6 ? 'ip6' : 'ip4'}:${address}`) : [`a:${config.smtp.hostname}`];
  return { feedbackHost: config.smtp.hostname, spfRecord: `v=spf1 ${mechanisms.join(' ')} ~all` };
}
