import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { createResolver } from '../../delivery/mx/index.js';
import { identityDnsRecords } from '../../identity/dns-records.js';
import { confirmEmailIdentity, createIdentity, renewConfirmation, verifyIdentityDns, checkMailFromDomain, type DkimOption } from '../../identity/identity-service.js';
import { normalizeIdentityName } from '../../identity/identity-name.js';
import { mailFromTargets } from '../../identity/mail-from-targets.js';
import { queueVerificationEmail } from '../../identity/send-verification-email.js';
import { createLogger } from '../../log/logger.js';
import { identityArn } from '../../policy/iam/index.js';
import type { GatewayConfig } from '../../config/schema.js';
import { NotFoundError, type ControlStore } from '../../store/control-store.js';
import type { Identity, IdentityNotifications, IdentityNotificationType, MailFromBehavior } from '../../store/identities.js';
import { describeTarget } from '../../events/destinations/create-transport.js';
import { output, parseBoolean, table, UsageError, withControlStore } from '../cli-context.js';
import { checkOperatorTarget } from './configset-command.js';

const NOTIFICATION_TYPES: readonly IdentityNotificationType[] = ['Bounce', 'Complaint', 'Delivery'];

/** `TYPE=VALUE` of --notification and --notification-headers; the type case-insensitively. */
function notificationSpec(spec: string, option: string): [IdentityNotificationType, string] {
  const equals = spec.indexOf('=');
  const type = NOTIFICATION_TYPES.find((candidate) => candidate.toLowerCase() === spec.slice(0, Math.max(equals, 0)).toLowerCase());
  if (!type) throw new UsageError(`${option} "${spec}" is not TYPE=VALUE with TYPE Bounce, Complaint or Delivery`);
  return [type, spec.slice(equals + 1)];
}

/** The identity's topics after --notification TYPE=TARGET|none and --notification-headers TYPE=BOOLEAN. */
function notificationChanges(current: IdentityNotifications, topics: string[], headers: string[]): IdentityNotifications {
  const next: IdentityNotifications = { ...current };
  for (const spec of topics) {
    const [type, target] = notificationSpec(spec, '--notification');
    if (target === 'none') delete next[type];
    else {
      checkOperatorTarget(target);
      next[type] = { target, includeOriginalHeaders: next[type]?.includeOriginalHeaders ?? false, since: next[type]?.target === target ? next[type]!.since : Date.now() };
    }
  }
  for (const spec of headers) {
    const [type, value] = notificationSpec(spec, '--notification-headers');
    const topic = next[type];
    if (!topic) throw new UsageError(`--notification-headers ${type}: set a ${type} topic first (--notification ${type}=URL)`);
    next[type] = { ...topic, includeOriginalHeaders: parseBoolean(value, '--notification-headers') };
  }
  return next;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

const MAIL_FROM_BEHAVIORS: readonly MailFromBehavior[] = ['UseDefaultValue', 'RejectMessage'];

const topicOf = (identity: Identity, type: IdentityNotificationType): string | null => {
  const topic = identity.notifications[type];
  return topic ? describeTarget(topic.target) : null;
};

function identityJson(identity: Identity, config: GatewayConfig) {
  return {
    Identity: identity.name,
    IdentityType: identity.type,
    IdentityArn: identityArn(config.region, identity.accountId, identity.name),
    AccountId: identity.accountId,
    VerificationStatus: identity.status,
    VerifiedBy: identity.verifiedBy,
    DkimSigningEnabled: identity.dkim?.enabled ?? false,
    DkimOrigin: identity.dkim?.origin ?? null,
    DkimSelectors: identity.dkim?.keys.map((key) => `${key.selector} (${key.algorithm})`) ?? [],
    MailFromDomain: identity.mailFrom?.domain ?? null,
    MailFromDomainStatus: identity.mailFrom?.status ?? null,
    BehaviorOnMxFailure: identity.mailFrom?.behaviorOnMxFailure ?? null,
    DefaultConfigurationSet: identity.defaultConfigurationSet,
    FeedbackForwardingEnabled: identity.feedbackForwarding,
    BounceTopic: topicOf(identity, 'Bounce'),
    ComplaintTopic: topicOf(identity, 'Complaint'),
    DeliveryTopic: topicOf(identity, 'Delivery'),
    HeadersInBounceNotificationsEnabled: identity.notifications.Bounce?.includeOriginalHeaders ?? false,
    HeadersInComplaintNotificationsEnabled: identity.notifications.Complaint?.includeOriginalHeaders ?? false,
    HeadersInDeliveryNotificationsEnabled: identity.notifications.Delivery?.includeOriginalHeaders ?? false,
    LastCheckedAt: identity.lastCheckedAt?.toISOString() ?? null,
    DnsRecords: identityDnsRecords(identity, mailFromTargets(config)).map((record) => ({ Name: record.name, Type: record.type, Value: record.value, Purpose: record.purpose })),
  };
}

function identityText(identity: Identity, config: GatewayConfig): string {
  const json = identityJson(identity, config);
  const fields = table(
    ['FIELD', 'VALUE'],
    Object.entries(json)
      .filter(([key]) => key !== 'DnsRecords')
      .map(([key, value]) => [key, Array.isArray(value) ? value.join(', ') : String(value)]),
  );
  if (json.DnsRecords.length === 0) return fields;
  const records = json.DnsRecords.map((record) => `${record.Name}. ${record.Type} "${record.Value}"\n    ; ${record.Purpose}`).join('\n');
  return `${fields}\n\nDNS records to publish (long TXT values are split into 255-byte strings by most DNS hosts):\n${records}`;
}

async function requireIdentity(store: ControlStore, accountId: string, name: string): Promise<Identity> {
  const identity = await store.identities.get(accountId, normalizeIdentityName(name).name);
  if (!identity) throw new NotFoundError(`identity ${name} in account ${accountId}`);
  return identity;
}

function dkimOption(options: { dkim: boolean; dkimKeySize: string; ed25519?: boolean; dkimPrivateKey?: string; dkimSelector?: string }): DkimOption {
  if (!options.dkim) return false;
  if (options.dkimPrivateKey !== undefined || options.dkimSelector !== undefined) {
    if (!options.dkimPrivateKey || !options.dkimSelector) throw new UsageError('--dkim-private-key and --dkim-selector go together');
    return { privateKeyPem: readFileSync(options.dkimPrivateKey, 'utf8'), selector: options.dkimSelector };
  }
  if (options.dkimKeySize !== '2048' && options.dkimKeySize !== '1024') throw new UsageError('--dkim-key-size must be 2048 or 1024');
  return { generate: options.dkimKeySize === '2048' ? 'rsa-2048' : 'rsa-1024', ed25519: options.ed25519 ?? false };
}

function mailFromBehavior(value: string): MailFromBehavior {
  if (!(MAIL_FROM_BEHAVIORS as readonly string[]).includes(value)) throw new UsageError(`--mail-from-mx-failure must be UseDefaultValue or RejectMessage, got "${value}"`);
  return value as MailFromBehavior;
}

/** A subcommand acting on one identity of an account. */
const onIdentity = (parent: Command, name: string, description: string): Command =>
  parent.command(name).description(description).argument('<identity>').requiredOption('--account <accountId>', 'account that owns the identity').option('--json', 'print JSON');

export function identityCommand(): Command {
  const command = new Command('identity').description('manage verified identities: the domains and addresses an account may send from (and, in the sandbox, to)');

  command
    .command('create')
    .description('create a domain or email address identity and print what to publish in DNS')
    .argument('<identity>', 'example.com or user@example.com')
    .requiredOption('--account <accountId>', 'account that owns the identity')
    .option('--verified', 'the operator owns it: mark it verified now without a DNS check (logged)')
    .option('--dkim-key-size <bits>', 'RSA DKIM key size, 2048 or 1024', '2048')
    .option('--ed25519', 'add an Ed25519 DKIM key (a second signature) to the RSA one')
    .option('--dkim-private-key <file>', 'bring your own DKIM key (PEM) instead of generating one')
    .option('--dkim-selector <selector>', 'selector of the key given with --dkim-private-key')
    .option('--no-dkim', 'no DKIM signing for this domain')
    .option('--mail-from <domain>', 'custom MAIL FROM domain (a subdomain of the identity)')
    .option('--mail-from-mx-failure <behavior>', 'when its MX is missing: UseDefaultValue (send from the gateway domain) or RejectMessage', 'UseDefaultValue')
    .option('--default-configuration-set <name>', 'configuration set for messages that name none')
    .option('--json', 'print JSON')
    .action(async (name: string, options: Record<string, string | boolean | undefined>, self: Command) => {
      await withControlStore(self, async (store, config) => {
        const identity = await createIdentity(store, {
          accountId: options.account as string,
          name,
          dkim: dkimOption(options as Parameters<typeof dkimOption>[0]),
          verified: options.verified === true,
          mailFrom: options.mailFrom ? { domain: options.mailFrom as string, behaviorOnMxFailure: mailFromBehavior(options.mailFromMxFailure as string) } : undefined,
          defaultConfigurationSet: options.defaultConfigurationSet as string | undefined,
        });
        const log = createLogger(config.log, process.stderr);
        if (identity.verifiedBy === 'operator') log.warn({ account: identity.accountId, identity: identity.name }, 'identity marked verified by the operator (no DNS check)');
        const sent = identity.type === 'EmailAddress' && identity.status === 'Pending' ? await queueVerificationEmail(config, identity, log) : null;
        const next = sent
            ? `\n\nA verification message with the confirmation token was queued to ${identity.name} (message ${sent}); confirm with:\n  relaygate identity confirm ${identity.name} TOKEN --account ${identity.accountId}`
            : identity.status === 'Pending'
              ? `\n\nPublish the records, then run \`relaygate identity verify ${identity.name} --account ${identity.accountId}\` (the gateway also re-checks every few minutes for 72 hours).`
              : '';
        output(options.json as boolean | undefined, identityJson(identity, config), () => identityText(identity, config) + next);
      });
    });

  command
    .command('list')
    .description('list identities with their verification status')
    .option('--account <accountId>', 'only this account')
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; json?: boolean }, self: Command) => {
      await withControlStore(self, async (store, config) => {
        const identities = await store.identities.list(options.account);
        output(options.json, identities.map((identity) => identityJson(identity, config)), () =>
          table(
            ['IDENTITY', 'TYPE', 'ACCOUNT', 'STATUS', 'DKIM', 'MAIL FROM'],
            identities.map((i) => [i.name, i.type, i.accountId, i.status, i.dkim?.enabled ? 'on' : 'off', i.mailFrom ? `${i.mailFrom.domain} (${i.mailFrom.status})` : '-']),
          ),
        );
      });
    });

  onIdentity(command, 'show', 'show an identity and the DNS records to publish')
    .action(async (name: string, options: { account: string; json?: boolean }, self: Command) => {
      await withControlStore(self, async (store, config) => {
        const identity = await requireIdentity(store, options.account, name);
        output(options.json, identityJson(identity, config), () => identityText(identity, config));
      });
    });

  onIdentity(command, 'verify', 'check a domain identity (and its MAIL FROM domain) in DNS now; for an address, issue a new confirmation token')
    .action(async (name: string, options: { account: string; json?: boolean }, self: Command) => {
      await withControlStore(self, async (store, config) => {
        const identity = await requireIdentity(store, options.account, name);
        const checked =
          identity.type === 'EmailAddress'
            ? await renewConfirmation(store, identity)
            : await verifyIdentityDns(store, identity, createResolver({ servers: config.dns.servers, timeoutMs: config.dns.timeoutMs }), mailFromTargets(config).feedbackHost);
        const sent = checked.type === 'EmailAddress' ? await queueVerificationEmail(config, checked, createLogger(config.log, process.stderr)) : null;
        output(options.json, identityJson(checked, config), () =>
          sent
            ? `new confirmation token for ${checked.name} (valid 24 hours) sent in message ${sent}`
            : `${checked.name}: ${checked.status}${checked.mailFrom ? `; MAIL FROM ${checked.mailFrom.domain}: ${checked.mailFrom.status}` : ''}`,
        );
      });
    });

  onIdentity(command, 'confirm', 'confirm an email address identity with its token')
    .argument('<token>')
    .action(async (name: string, token: string, options: { account: string; json?: boolean }, self: Command) => {
      await withControlStore(self, async (store) => {
        const identity = await requireIdentity(store, options.account, name);
        if (identity.type !== 'EmailAddress') throw new UsageError(`${identity.name} is a domain: domains are verified through DNS (identity verify)`);
        const result = await confirmEmailIdentity(store, identity, token);
        if (result === 'wrong-token') throw new UsageError(`that is not the confirmation token of ${identity.name}`);
        if (result === 'expired') throw new UsageError(`the confirmation token of ${identity.name} has expired; \`relaygate identity verify ${identity.name}\` issues a new one`);
        output(options.json, { Identity: identity.name, VerificationStatus: 'Success' }, () => `${identity.name} is verified`);
      });
    });

  onIdentity(command, 'update', "change an identity's DKIM signing, custom MAIL FROM domain, default configuration set, notification topics or email feedback forwarding")
    .option('--dkim-signing <boolean>', 'enable or disable DKIM signing')
    .option('--mail-from <domain>', 'custom MAIL FROM domain; "none" removes it')
    .option('--mail-from-mx-failure <behavior>', 'UseDefaultValue or RejectMessage')
    .option('--default-configuration-set <name>', 'default configuration set; "none" removes it')
    .option('--feedback-forwarding <boolean>', 'email bounce and complaint reports to the sender (default true, as SES)')
    .option('--notification <TYPE=TARGET>', 'Bounce, Complaint or Delivery notifications to a webhook URL (or file:/path); TYPE=none removes it; repeatable', collect)
    .option('--notification-headers <TYPE=BOOLEAN>', 'whether that type of notification includes the original headers (default false); repeatable', collect)
    .action(async (name: string, options: Record<string, string | string[] | boolean | undefined>, self: Command) => {
      await withControlStore(self, async (store, config) => {
        const identity = await requireIdentity(store, options.account as string, name);
        const changes: Partial<Identity> = {};
        if (options.dkimSigning !== undefined) {
          if (!identity.dkim) throw new UsageError(`${identity.name} has no DKIM key`);
          changes.dkim = { ...identity.dkim, enabled: parseBoolean(options.dkimSigning as string, '--dkim-signing') };
        }
        const behavior = options.mailFromMxFailure === undefined ? undefined : mailFromBehavior(options.mailFromMxFailure as string);
        if (options.mailFrom === 'none') changes.mailFrom = null;
        else if (options.mailFrom !== undefined) {
          const domain = checkMailFromDomain(identity.name, options.mailFrom as string);
          changes.mailFrom = { domain, behaviorOnMxFailure: behavior ?? identity.mailFrom?.behaviorOnMxFailure ?? 'UseDefaultValue', status: 'Pending', pendingSince: Date.now() };
        } else if (behavior) {
          if (!identity.mailFrom) throw new UsageError(`${identity.name} has no custom MAIL FROM domain`);
          changes.mailFrom = { ...identity.mailFrom, behaviorOnMxFailure: behavior };
        }
        const defaultSet = options.defaultConfigurationSet as string | undefined;
        if (defaultSet === 'none') changes.defaultConfigurationSet = null;
        else if (defaultSet !== undefined) {
          if (!(await store.configurationSets.get(identity.accountId, defaultSet))) throw new NotFoundError(`configuration set ${defaultSet}`);
          changes.defaultConfigurationSet = defaultSet;
        }
        if (options.feedbackForwarding !== undefined) changes.feedbackForwarding = parseBoolean(options.feedbackForwarding as string, '--feedback-forwarding');
        if (options.notification !== undefined || options.notificationHeaders !== undefined) {
          changes.notifications = notificationChanges(identity.notifications, (options.notification as string[] | undefined) ?? [], (options.notificationHeaders as string[] | undefined) ?? []);
        }
        const updated = await store.identities.update(identity.accountId, identity.name, changes);
        output(options.json as boolean | undefined, identityJson(updated, config), () => identityText(updated, config));
      });
    });

  onIdentity(command, 'delete', 'delete an identity and its sending-authorization policies')
    .action(async (name: string, options: { account: string; json?: boolean }, self: Command) => {
      await withControlStore(self, async (store) => {
        const identity = await requireIdentity(store, options.account, name);
        await store.identities.delete(identity.accountId, identity.name);
        output(options.json, { Identity: identity.name, Deleted: true }, () => `deleted ${identity.name}`);
      });
    });

  return command;
}
