import { promises as dns } from 'node:dns';

export interface ResolverOptions {
  /** 'ip' or 'ip:port' ('[v6]:port' for IPv6); the system's resolv.conf servers when omitted. */
  servers?: string[];
  /** Per-attempt timeout; c-ares doubles it on each retry. */
  timeoutMs?: number;
  tries?: number;
}

/**
 * A private resolver instance. Always inject one: `new Resolver()` does not see `dns.setServers()`, so code that
 * builds its own would silently ignore the servers configured here.
 */
export function createResolver(options: ResolverOptions = {}): dns.Resolver {
  const resolver = new dns.Resolver({ timeout: options.timeoutMs, tries: options.tries });
  if (options.servers?.length) resolver.setServers(options.servers);
  return resolver;
}
