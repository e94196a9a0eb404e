import { Command } from 'commander';
import type { GatewayConfig } from '../../config/schema.js';
import { CONFIGURATION_SET_NAME, EVENT_DESTINATION_TYPES, type ConfigurationSet, type EventDestination, type TlsPolicy } from '../../store/configuration-sets.js';
import { NotFoundError } from '../../store/control-store.js';
import { checkTarget } from '../../events/destinations/create-transport.js';
import { output, parseBoolean, parseSuppressedReasons, table, UsageError, withControlStore } from '../cli-context.js';

/** A target the events layer cannot take is a mistake on the command line. */
export function checkOperatorTarget(target: string): void {
  try {
    checkTarget(target);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}


interface SetOptions {
  account: string;
  sendingEnabled?: string;
  tlsPolicy?: string;
  sendingPool?: string;
  suppressedReasons?: string;
  eventDestination?: string[];
  eventDestinationHeaders?: string[];
  eventDestinationEnabled?: string[];
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const configurationSetJson = (set: ConfigurationSet) => ({
  ConfigurationSetName: set.name,
  AccountId: set.accountId,
  SendingEnabled: set.sendingEnabled,
  TlsPolicy: set.tlsPolicy,
  SendingPoolName: set.sendingPoolName,
  SuppressedReasons: set.suppressedReasons,
  EventDestinations: set.eventDestinations.map((destination) => ({
    Name: destination.name,
    Enabled: destination.enabled,
    MatchingEventTypes: destination.eventTypes,
    Target: destination.target,
    IncludeOriginalHeaders: destination.includeOriginalHeaders ?? true,
  })),
  CreatedAt: set.createdAt.toISOString(),
});

/** `NAME:TYPE,TYPE:TARGET`, e.g. `hooks:SEND,BOUNCE:https://example.com/ses-events`. */
function parseEventDestination(spec: string): EventDestination {
  const first = spec.indexOf(':');
  const second = spec.indexOf(':', first + 1);
  if (first === -1 || second === -1) throw new UsageError(`--event-destination "${spec}" is not NAME:EVENT_TYPES:TARGET`);
  const name = spec.slice(0, first);
  const eventTypes = spec.slice(first + 1, second).split(',').map((type) => type.trim().toUpperCase());
  const target = spec.slice(second + 1);
  if (!CONFIGURATION_SET_NAME.test(name)) throw new UsageError(`event destination name "${name}" may contain only letters, digits, '-' and '_' (64 at most)`);
  const unknown = eventTypes.filter((type) => !EVENT_DESTINATION_TYPES.includes(type));
  if (unknown.length > 0) throw new UsageError(`unknown event type ${unknown.join(', ')}; use ${EVENT_DESTINATION_TYPES.join(', ')}`);
  if (!target) throw new UsageError(`event destination ${name} needs a target`);
  checkOperatorTarget(target);
  return { name, enabled: true, eventTypes, target, includeOriginalHeaders: true, createdAt: Date.now() };
}

/** `NAME=true|false` options that change one destination's flag. */
function applyDestinationFlags(destinations: EventDestination[], specs: string[], option: string, apply: (destination: EventDestination, value: boolean) => EventDestination): EventDestination[] {
  let result = destinations;
  for (const spec of specs) {
    const equals = spec.lastIndexOf('=');
    const name = equals === -1 ? '' : spec.slice(0, equals);
    if (!name) throw new UsageError(`${option} "${spec}" is not NAME=true|false`);
    const value = parseBoolean(spec.slice(equals + 1), option);
    if (!result.some((destination) => destination.name === name)) throw new UsageError(`${option}: the configuration set has no event destination ${name}`);
    result = result.map((destination) => (destination.name === name ? apply(destination, value) : destination));
  }
  return result;
}

/** The destinations the options give (or the set's current ones), a re-given destination keeping its start time and cursor. */
function eventDestinations(options: SetOptions, current: readonly EventDestination[]): EventDestination[] | undefined {
  if (options.eventDestination === undefined && options.eventDestinationHeaders === undefined && options.eventDestinationEnabled === undefined) return undefined;
  let destinations = options.eventDestination?.map(parseEventDestination) ?? [...current];
  const names = destinations.map((destination) => destination.name);
  const repeated = names.find((name, index) => names.indexOf(name) !== index);
  if (repeated) throw new UsageError(`event destination ${repeated} is given twice`);
  destinations = destinations.map((destination) => {
    const before = current.find((existing) => existing.name === destination.name);
    return before?.createdAt === undefined ? destination : { ...destination, createdAt: before.createdAt };
  });
  destinations = applyDestinationFlags(destinations, options.eventDestinationHeaders ?? [], '--event-destination-headers', (destination, value) => ({ ...destination, includeOriginalHeaders: value }));
  return applyDestinationFlags(destinations, options.eventDestinationEnabled ?? [], '--event-destination-enabled', (destination, value) => ({ ...destination, enabled: value }));
}

/** The settings given on the command line, checked; options left out are not in the result. */
function settings(options: SetOptions, config: GatewayConfig, current: readonly EventDestination[] = []): Partial<ConfigurationSet> {
  const result: Partial<ConfigurationSet> = {};
  if (options.sendingEnabled !== undefined) result.sendingEnabled = parseBoolean(options.sendingEnabled, '--sending-enabled');
  if (options.tlsPolicy !== undefined) {
    const policy = options.tlsPolicy.charAt(0).toUpperCase() + options.tlsPolicy.slice(1).toLowerCase();
    if (policy !== 'Require' && policy !== 'Optional') throw new UsageError(`--tls-policy must be Require or Optional, got "${options.tlsPolicy}"`);
    result.tlsPolicy = policy as TlsPolicy;
  }
  if (options.sendingPool !== undefined) {
    if (options.sendingPool === 'none') result.sendingPoolName = null;
    else if (!(options.sendingPool in config.delivery.pools)) {
      throw new UsageError(`sending pool "${options.sendingPool}" is not configured (delivery.pools has: ${Object.keys(config.delivery.pools).join(', ') || 'none'})`);
    } else result.sendingPoolName = options.sendingPool;
  }
  if (options.suppressedReasons !== undefined) {
    result.suppressedReasons = options.suppressedReasons === 'account' ? null : parseSuppressedReasons(options.suppressedReasons, '--suppressed-reasons', ', or account');
  }
  const destinations = eventDestinations(options, current);
  if (destinations !== undefined) result.eventDestinations = destinations;
  return result;
}

function withSetOptions(command: Command): Command {
  return command
    .requiredOption('--account <accountId>', 'account that owns the configuration set')
    .option('--sending-enabled <boolean>', 'false pauses sending for messages that use the set')
    .option('--tls-policy <policy>', 'Require (never deliver without TLS) or Optional (opportunistic TLS)')
    .option('--sending-pool <pool>', 'IP pool from delivery.pools; "none" for the default pool')
    .option('--suppressed-reasons <reasons>', "which feedback adds recipients to the account's suppression list for this set: BOUNCE, COMPLAINT, both (comma-separated), none, or account (the account's setting; the default)")
    .option('--event-destination <NAME:TYPES:TARGET>', 'event destination, repeatable (replaces the set\'s destinations), e.g. hooks:SEND,BOUNCE:https://example.com/events or log:SEND,DELIVERY:file:/var/log/ses-events.jsonl', collect)
    .option('--event-destination-headers <NAME=BOOLEAN>', "whether that destination's records include the original headers (default true), repeatable", collect)
    .option('--event-destination-enabled <NAME=BOOLEAN>', 'enable or disable that destination (a disabled one skips events), repeatable', collect)
    .option('--json', 'print JSON');
}

export function configsetCommand(): Command {
  const command = new Command('configset').description('manage configuration sets (selected per message with X-SES-CONFIGURATION-SET)');

  withSetOptions(command.command('create').description('create a configuration set').argument('<name>', 'up to 64 letters, digits, - and _')).action(
    async (name: string, options: SetOptions, self: Command) => {
      if (!CONFIGURATION_SET_NAME.test(name)) throw new UsageError(`configuration set name "${name}" must be 1-64 letters, digits, '-' or '_'`);
      const set = await withControlStore(self, async (store, config) => {
        if (!(await store.accounts.get(options.account))) throw new NotFoundError(`account ${options.account}`);
        return store.configurationSets.create({
          accountId: options.account,
          name,
          sendingEnabled: true,
          tlsPolicy: 'Optional',
          sendingPoolName: null,
          suppressedReasons: null,
          eventDestinations: [],
          ...settings(options, config),
        });
      });
      output(options.json, configurationSetJson(set), () => `created configuration set ${set.name}`);
    },
  );

  withSetOptions(command.command('update').description('change a configuration set (e.g. --sending-enabled false pauses it)').argument('<name>')).action(
    async (name: string, options: SetOptions, self: Command) => {
      const set = await withControlStore(self, async (store, config) => {
        const current = await store.configurationSets.get(options.account, name);
        if (!current) throw new NotFoundError(`configuration set ${name}`);
        return store.configurationSets.update(options.account, name, settings(options, config, current.eventDestinations));
      });
      output(options.json, configurationSetJson(set), () => `updated configuration set ${set.name}`);
    },
  );

  command
    .command('list')
    .description('list configuration sets')
    .option('--account <accountId>', 'only this account')
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; json?: boolean }, self: Command) => {
      const sets = await withControlStore(self, (store) => store.configurationSets.list(options.account));
      output(options.json, sets.map(configurationSetJson), () =>
        table(
          ['NAME', 'ACCOUNT', 'SENDING', 'TLS', 'POOL', 'SUPPRESSION', 'EVENT DESTINATIONS'],
          sets.map((s) => [s.name, s.accountId, s.sendingEnabled ? 'enabled' : 'paused', s.tlsPolicy, s.sendingPoolName ?? '-', s.suppressedReasons === null ? 'account' : s.suppressedReasons.join(',') || 'none', String(s.eventDestinations.length)]),
        ),
      );
    });

  command
    .command('show')
    .description('show a configuration set')
    .argument('<name>')
    .requiredOption('--account <accountId>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { account: string; json?: boolean }, self: Command) => {
      const set = await withControlStore(self, (store) => store.configurationSets.get(options.account, name));
      if (!set) throw new NotFoundError(`configuration set ${name}`);
      output(options.json, configurationSetJson(set), () => JSON.stringify(configurationSetJson(set), null, 2));
    });

  command
    .command('delete')
    .description('delete a configuration set')
    .argument('<name>')
    .requiredOption('--account <accountId>')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { account: string; json?: boolean }, self: Command) => {
      const deleted = await withControlStore(self, (store) => store.configurationSets.delete(options.account, name));
      if (!deleted) throw new NotFoundError(`configuration set ${name}`);
      output(options.json, { ConfigurationSetName: name, Deleted: true }, () => `deleted configuration set ${name}`);
    });

  return command;
}
