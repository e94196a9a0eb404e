import { readFileSync } from 'node:fs';
import { availableParallelism, hostname as systemHostname } from 'node:os';
import { BlockList } from 'node:net';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from './config-error.js';
import { parseListenSpec } from './listen-spec.js';
import { OptionReader } from './option-reader.js';
import { parseCidr } from './cidr.js';
import { readDeliveryConfig } from './delivery-options.js';
import { readVerificationConfig } from './verification-options.js';
import { readReputationConfig } from './reputation-options.js';
import { readEventsConfig } from './events-options.js';
import { readHttpConfig } from './http-options.js';
import { readClusterConfig } from './cluster-options.js';
import { readTlsConfig } from './tls-options.js';
import { DEFAULT_LISTENERS, MAX_MESSAGE_BYTES_CEILING, type GatewayConfig } from './schema.js';

/** Command-line values that take precedence over the file. */
export interface ConfigOverrides {
  dataDir?: string;
  listen?: string[];
  region?: string;
  hostname?: string;
  logLevel?: string;
  /** --redis: cluster.redisUrl. */
  redis?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const REGION_PATTERN = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

export function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('--config', `cannot read ${path}: ${(error as Error).message}`);
  }
  try {
    return parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError('--config', `${path} is not valid YAML: ${(error as Error).message}`);
  }
}

/** Builds the validated configuration from a config file's content (or nothing) and command-line overrides. */
export function buildConfig(raw: unknown, overrides: ConfigOverrides = {}): GatewayConfig {
  const top = OptionReader.of(raw, '');

  const fileRegion = top.string('region', 'us-east-1');
  const region = overrides.region ?? fileRegion;
  if (!REGION_PATTERN.test(region)) throw new ConfigError('region', `"${region}" does not look like an AWS region name (e.g. us-east-1)`);

  const fileDataDir = top.string('dataDir', './data');
  const dataDir = resolve(overrides.dataDir ?? fileDataDir);

  const listenEntries = top.list('listeners');
  let listeners = DEFAULT_LISTENERS.map((listener) => ({ ...listener }));
  let defaultListeners = true;
  if (overrides.listen && overrides.listen.length > 0) {
    listeners = overrides.listen.map((spec) => parseListenSpec(spec, '--listen'));
    defaultListeners = false;
  } else if (listenEntries) {
    listeners = listenEntries.map((entry, index) => {
      if (typeof entry !== 'string') throw new ConfigError(`listeners[${index}]`, 'must be a string HOST:PORT=MODE');
      return parseListenSpec(entry, `listeners[${index}]`);
    });
    defaultListeners = false;
  }
  if (listeners.length === 0) throw new ConfigError('listeners', 'at least one listener is needed');

  const tls = readTlsConfig(top.child('tls'));

  const smtpReader = top.child('smtp');
  const fileHostname = smtpReader.string('hostname', systemHostname());
  const hostname = overrides.hostname ?? fileHostname;
  const plaintextNetworks = smtpReader.stringList('plaintextNetworks', []);
  plaintextNetworks.forEach((cidr, index) => parseCidr(cidr, `smtp.plaintextNetworks[${index}]`));
  const smtp = {
    hostname,
    banner: smtpReader.string('banner', 'relaygate'),
    maxMessageBytes: smtpReader.integer('maxMessageBytes', 10 * 1024 * 1024, 1024, MAX_MESSAGE_BYTES_CEILING),
    deadLetterMaxBytes: smtpReader.integer('deadLetterMaxBytes', 1024 * 1024 * 1024, 1024 * 1024, Number.MAX_SAFE_INTEGER),
    maxRecipients: smtpReader.integer('maxRecipients', 50, 1, 1000),
    maxConnections: smtpReader.integer('maxConnections', 1000, 1, 100_000),
    workers: smtpReader.integer('workers', availableParallelism(), 1, 256),
    maxConnectionsPerAddress: smtpReader.integer('maxConnectionsPerAddress', 50, 1, 100_000),
    idleTimeoutSeconds: smtpReader.integer('idleTimeoutSeconds', 60, 1, 3600),
    tlsHandshakeTimeoutSeconds: smtpReader.integer('tlsHandshakeTimeoutSeconds', 10, 1, 600),
    maxCommandsBeforeAuth: smtpReader.integer('maxCommandsBeforeAuth', 10, 1, 1000),
    authTimeoutSeconds: smtpReader.integer('authTimeoutSeconds', 60, 1, 3600),
    dataTimeoutSeconds: smtpReader.integer('dataTimeoutSeconds', 900, 1, 86_400),
    dataMinBytesPerSecond: smtpReader.integer('dataMinBytesPerSecond', 500, 0, 100_000_000),
    maxSessionSeconds: smtpReader.integer('maxSessionSeconds', 3600, 1, 604_800),
    shutdownTimeoutSeconds: smtpReader.integer('shutdownTimeoutSeconds', 30, 1, 3600),
    plaintextNetworks,
    messageIdDomain: smtpReader.string('messageIdDomain', hostname),
  };
  smtpReader.rejectUnknown();

  const throttleReader = top.child('authThrottle');
  const authThrottle = {
    freeFailures: throttleReader.integer('freeFailures', 2, 0, 1000),
    delayStepMs: throttleReader.integer('delayStepMs', 1000, 0, 60_000),
    maxDelayMs: throttleReader.integer('maxDelayMs', 5000, 0, 60_000),
    blockAfterFailures: throttleReader.integer('blockAfterFailures', 10, 1, 100_000),
    userBlockAfterFailures: throttleReader.integer('userBlockAfterFailures', 30, 1, 100_000),
    addressBlockAfterFailures: throttleReader.integer('addressBlockAfterFailures', 100, 1, 100_000),
    windowSeconds: throttleReader.integer('windowSeconds', 600, 1, 86_400),
    blockSeconds: throttleReader.integer('blockSeconds', 900, 1, 86_400),
  };
  throttleReader.rejectUnknown();

  const dnsReader = top.child('dns');
  const dns = { servers: dnsReader.stringList('servers', []), timeoutMs: dnsReader.integer('timeoutMs', 5000, 100, 60_000) };
  dns.servers.forEach((server, index) => {
    if (!/^(\[[0-9a-f:]+\]|[0-9.]+|[0-9a-f:]+)(:\d{1,5})?$/i.test(server)) throw new ConfigError(`dns.servers[${index}]`, `"${server}" is not an IP address with an optional :port`);
  });
  dnsReader.rejectUnknown();

  const delivery = readDeliveryConfig(top.child('delivery'), hostname);
  const verification = readVerificationConfig(top.child('verification'));
  const reputation = readReputationConfig(top.child('reputation'));
  const events = readEventsConfig(top.child('events'));
  const http = readHttpConfig(top.child('http'), dataDir);
  const cluster = readClusterConfig(top.child('cluster'), overrides.redis);

  const logReader = top.child('log');
  const log = { level: logReader.oneOf('level', 'info', LOG_LEVELS) };
  if (overrides.logLevel !== undefined) {
    if (!(LOG_LEVELS as readonly string[]).includes(overrides.logLevel)) throw new ConfigError('--log-level', `must be one of ${LOG_LEVELS.join(', ')}`);
    log.level = overrides.logLevel as (typeof LOG_LEVELS)[number];
  }
  logReader.rejectUnknown();

  top.rejectUnknown();
  return { region, dataDir, listeners, defaultListeners, tls, smtp, authThrottle, dns, delivery, verification, reputation, events, http, cluster, log };
}

export function loadConfig(configPath: string | undefined, overrides: ConfigOverrides = {}): GatewayConfig {
  return buildConfig(configPath ? readConfigFile(configPath) : {}, overrides);
}

/** A BlockList of the networks allowed to use plaintext. */
export function plaintextBlockList(cidrs: string[]): BlockList {
  const list = new BlockList();
  cidrs.forEach((cidr, index) => {
    const { address, prefix, family } = parseCidr(cidr, `smtp.plaintextNetworks[${index}]`);
    list.addSubnet(address, prefix, family);
  });
  return list;
}
