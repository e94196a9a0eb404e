import { isIP } from 'node:net';
import { ConfigError } from './config-error.js';
import { OptionReader } from './option-reader.js';
import type { DeliveryConfig, IpPoolConfig, ShapingLimits, ShapingRuleConfig, SourceAddressConfig } from './schema.js';

const POOL_NAME = /^[a-z0-9._-]{1,64}$/;
const HOST_NAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_SECONDS = 86_400;

/** Reads the `delivery` section; `hostname` (smtp.hostname) is the default EHLO name and feedback domain. */
export function readDeliveryConfig(reader: OptionReader, hostname: string): DeliveryConfig {
  const retryReader = reader.child('retry');
  const retry = {
    firstDelaySeconds: retryReader.integer('firstDelaySeconds', 60, 1, DAY_SECONDS),
    maxDelaySeconds: retryReader.integer('maxDelaySeconds', 3600, 1, 7 * DAY_SECONDS),
  };
  if (retry.maxDelaySeconds < retry.firstDelaySeconds) throw new ConfigError(retryReader.name('maxDelaySeconds'), 'must not be less than firstDelaySeconds');
  retryReader.rejectUnknown();

  const defaults: ShapingLimits = {
    maxConnections: reader.integer('maxConnections', 20, 1, 10_000),
    messagesPerConnection: reader.integer('messagesPerConnection', 100, 1, 1_000_000),
    messagesPerSecond: reader.integer('messagesPerSecond', 0, 0, 1_000_000),
  };

  const pools = Object.fromEntries(reader.mapping('pools').map(([name, poolReader]) => [name, readPool(`${reader.name('pools')}.${name}`, name, poolReader, hostname)]));
  const defaultPool = reader.string('defaultPool', 'default');
  if (Object.keys(pools).length > 0 && !pools[defaultPool]) {
    throw new ConfigError(reader.name('defaultPool'), `names no pool in delivery.pools (${Object.keys(pools).join(', ')})`);
  }
  const owners = new Map<string, string>();
  for (const [name, pool] of Object.entries(pools)) {
    for (const { address } of pool.addresses) {
      // SES: an address belongs to at most one pool; two would share a warm-up counter and confuse both.
      const owner = owners.get(address);
      if (owner) throw new ConfigError(`${reader.name('pools')}.${name}`, `address ${address} is already in pool ${owner}`);
      owners.set(address, name);
    }
  }

  const shaping = (reader.list('shaping') ?? []).map((entry, index) => readShapingRule(OptionReader.of(entry, `${reader.name('shaping')}[${index}]`), defaults));

  const warmupReader = reader.child('warmup');
  const warmup = {
    days: warmupReader.integer('days', 45, 1, 365),
    firstDayLimit: warmupReader.integer('firstDayLimit', 50, 1, 100_000_000),
    lastDayLimit: warmupReader.integer('lastDayLimit', 20_000, 1, 100_000_000),
  };
  if (warmup.lastDayLimit < warmup.firstDayLimit) throw new ConfigError(warmupReader.name('lastDayLimit'), 'must not be less than firstDayLimit');
  warmupReader.rejectUnknown();

  const feedbackDomain = reader.string('feedbackDomain', hostname);
  if (!HOST_NAME.test(feedbackDomain)) throw new ConfigError(reader.name('feedbackDomain'), `"${feedbackDomain}" is not a domain name`);

  const config: DeliveryConfig = {
    enabled: reader.boolean('enabled', true),
    port: reader.integer('port', 25, 1, 65_535),
    allowPrivateAddresses: reader.boolean('allowPrivateAddresses', false),
    retry,
    queueLifetimeHours: reader.integer('queueLifetimeHours', 120, 1, 30 * 24),
    completedRetentionHours: reader.integer('completedRetentionHours', 168, 1, 365 * 24),
    maxMxAddresses: reader.integer('maxMxAddresses', 5, 1, 100),
    connectTimeoutMs: reader.integer('connectTimeoutMs', 30_000, 100, 600_000),
    greetingTimeoutMs: reader.integer('greetingTimeoutMs', 300_000, 100, 600_000),
    dataTimeoutMs: reader.integer('dataTimeoutMs', 600_000, 100, 3_600_000),
    ...defaults,
    pools,
    defaultPool,
    shaping,
    warmup,
    feedbackDomain,
    dkim: readGatewayDkim(reader.child('dkim')),
  };
  reader.rejectUnknown();
  return config;
}

function readPool(path: string, name: string, reader: OptionReader, hostname: string): IpPoolConfig {
  if (!POOL_NAME.test(name)) throw new ConfigError(path, 'pool names are 1 to 64 lowercase letters, digits, ".", "_" or "-"');
  const entries = reader.list('addresses') ?? [];
  if (entries.length === 0) throw new ConfigError(reader.name('addresses'), 'a pool needs at least one address');
  const addresses = entries.map((entry, index) => readSourceAddress(OptionReader.of(entry, `${reader.name('addresses')}[${index}]`), hostname));
  reader.rejectUnknown();
  return { addresses };
}

function readSourceAddress(reader: OptionReader, hostname: string): SourceAddressConfig {
  const address = reader.string('address', '');
  if (!isIP(address)) throw new ConfigError(reader.name('address'), `"${address}" is not an IP address`);
  const ehloName = reader.string('ehloName', hostname);
  if (!HOST_NAME.test(ehloName)) throw new ConfigError(reader.name('ehloName'), `"${ehloName}" is not a host name`);
  const rawWarmup = reader.raw('warmup');
  let warmup: SourceAddressConfig['warmup'] = null;
  if (rawWarmup === true) warmup = { startedOn: null };
  else if (rawWarmup !== undefined && rawWarmup !== null && rawWarmup !== false) {
    const warmupReader = OptionReader.of(rawWarmup, reader.name('warmup'));
    const startedOn = warmupReader.optionalString('startedOn');
    if (startedOn !== null && !(DATE.test(startedOn) && !Number.isNaN(Date.parse(`${startedOn}T00:00:00Z`)))) {
      throw new ConfigError(warmupReader.name('startedOn'), `must be a date as YYYY-MM-DD, got "${startedOn}"`);
    }
    warmupReader.rejectUnknown();
    warmup = { startedOn };
  }
  reader.rejectUnknown();
  return { address, ehloName, warmup };
}

function readShapingRule(reader: OptionReader, defaults: ShapingLimits): ShapingRuleConfig {
  const matchReader = reader.child('match');
  const domain = matchReader.optionalString('domain')?.toLowerCase() ?? null;
  const mxSuffix = matchReader.optionalString('mxSuffix')?.toLowerCase() ?? null;
  if (domain === null && mxSuffix === null) throw new ConfigError(reader.name('match'), 'needs domain or mxSuffix');
  if (domain !== null && !HOST_NAME.test(domain.replace(/^\*\./, ''))) throw new ConfigError(matchReader.name('domain'), `"${domain}" is not a domain or *.domain`);
  if (mxSuffix !== null && !HOST_NAME.test(mxSuffix.replace(/^\./, ''))) throw new ConfigError(matchReader.name('mxSuffix'), `"${mxSuffix}" is not a host name suffix`);
  matchReader.rejectUnknown();
  const rule = {
    match: { domain, mxSuffix },
    maxConnections: reader.integer('maxConnections', defaults.maxConnections, 1, 10_000),
    messagesPerConnection: reader.integer('messagesPerConnection', defaults.messagesPerConnection, 1, 1_000_000),
    messagesPerSecond: reader.integer('messagesPerSecond', defaults.messagesPerSecond, 0, 1_000_000),
  };
  reader.rejectUnknown();
  return rule;
}

function readGatewayDkim(reader: OptionReader): DeliveryConfig['dkim'] {
  const domain = reader.optionalString('domain');
  const selector = reader.optionalString('selector');
  const keyFile = reader.optionalString('keyFile');
  reader.rejectUnknown();
  if (domain === null && selector === null && keyFile === null) return null;
  if (domain === null || selector === null || keyFile === null) throw new ConfigError(reader.name('domain'), 'domain, selector and keyFile are all needed for the gateway DKIM signature');
  return { domain: domain.toLowerCase(), selector, keyFile };
}
