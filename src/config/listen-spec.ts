import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';
import type { ListenerConfig, ListenerMode } from './schema.js';

const MODES: readonly ListenerMode[] = ['starttls', 'tls'];
const INTAKE = '+intake';

/** The port MX hosts deliver to: a listener there always takes feedback for the gateway's return paths. */
export const MX_PORT = 25;

/**
 * Parses `HOST:PORT=MODE[+intake]` (IPv6 as `[::1]:2587=starttls`), the form of `--listen` and of `listeners` entries.
 * `+intake` marks a listener that also takes unauthenticated feedback (bounces, complaints) for the gateway's return
 * paths; a port-25 listener always does.
 */
export function parseListenSpec(spec: string, option: string): ListenerConfig {
  const match = /^(?:\[([^\]]+)\]|([^:=\s]+)):(\d{1,5})=(\w+)(\+\w+)?$/.exec(spec.trim());
  if (!match) throw new ConfigError(option, `"${spec}" is not HOST:PORT=MODE (for example 127.0.0.1:2587=starttls, [::1]:2465=tls or 127.0.0.1:2525=starttls+intake)`);
  const host = match[1] ?? match[2] ?? '';
  const port = Number(match[3]);
  const mode = match[4]?.toLowerCase() as ListenerMode;
  const marker = match[5]?.toLowerCase();
  if (match[1] !== undefined && isIP(host) !== 6) throw new ConfigError(option, `"${host}" in brackets is not an IPv6 address`);
  if (port > 65535) throw new ConfigError(option, `port ${port} is out of range 0-65535 (0 picks a free port)`);
  if (!MODES.includes(mode)) throw new ConfigError(option, `mode "${match[4]}" must be starttls or tls`);
  if (marker !== undefined && marker !== INTAKE) throw new ConfigError(option, `"${match[5]}" after the mode must be +intake`);
  return { host, port, mode, intake: marker === INTAKE || port === MX_PORT };
}

export function formatListener(listener: ListenerConfig): string {
  const host = isIP(listener.host) === 6 ? `[${listener.host}]` : listener.host;
  return `${host}:${listener.port}=${listener.mode}${listener.intake ? INTAKE : ''}`;
}
