import { Command } from 'commander';
import { issueCredential, USER_POLICY_CHOICES, type UserPolicyChoice } from '../../auth/credential-issuer.js';
import { generateAccessKeyId, generateSecretAccessKey } from '../../auth/key-generator.js';
import { SecretBox } from '../../auth/secret-box.js';
import { deriveSmtpPassword } from '../../auth/smtp-password.js';
import type { GatewayConfig } from '../../config/schema.js';
import { NotFoundError, type ControlStore, type Credential } from '../../store/control-store.js';
import { output, table, UsageError, withControlStore } from '../cli-context.js';

const credentialJson = (credential: Credential) => ({
  AccessKeyId: credential.accessKeyId,
  AccountId: credential.accountId,
  UserName: credential.userName,
  UserArn: `arn:aws:iam::${credential.accountId}:user/${credential.userName}`,
  Region: credential.region,
  Status: credential.revokedAt ? 'Revoked' : 'Active',
  HttpApi: credential.sealedSecret !== null,
  CreatedAt: credential.createdAt.toISOString(),
  RevokedAt: credential.revokedAt?.toISOString() ?? null,
});

/** IAM user names: up to 64 of letters, digits and +=,.@_- (the console's SMTP users are "ses-smtp-user.<date>"). */
const USER_NAME = /^[\w+=,.@-]{1,64}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const V4_PASSWORD = /^B[A-Za-z0-9+/]{43}$/;

function defaultUserName(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `ses-smtp-user.${stamp}`;
}

const POLICY_HELP =
  'policy for the user: sending (AmazonSesSendingAccess, ses:SendRawEmail only; the default for a user without policies) or full-access (AmazonSESFullAccess, ses:*: also manages identities, configuration sets and the account through the HTTP API)';

function policyChoice(value: string | undefined): UserPolicyChoice | undefined {
  if (value === undefined) return undefined;
  if (!(value in USER_POLICY_CHOICES)) throw new UsageError(`--policy must be ${Object.keys(USER_POLICY_CHOICES).join(' or ')}, got "${value}"`);
  return value as UserPolicyChoice;
}

/**
 * Stores the credential (a hash of its password; its secret sealed with http.secretKeyFile when known, for the HTTP API)
 * with the chosen policy, or SES's default sending policy for a new user.
 */
async function storeCredential(
  store: ControlStore,
  config: GatewayConfig,
  request: { accountId: string; accessKeyId: string; userName: string; smtpPassword: string; secretAccessKey?: string; policy?: string },
): Promise<Credential> {
  if (!USER_NAME.test(request.userName)) throw new UsageError(`--user-name "${request.userName}" must be 1-64 letters, digits or +=,.@_-`);
  const { secretAccessKey, policy: policyName, ...rest } = request;
  const policy = policyChoice(policyName);
  const secret = secretAccessKey === undefined ? undefined : { secretAccessKey, box: SecretBox.open(config.http.secretKeyFile) };
  return issueCredential(store, { ...rest, region: config.region, ...(secret ? { secret } : {}), ...(policy ? { policy } : {}) });
}

export function credentialsCommand(): Command {
  const command = new Command('credentials').description('manage SMTP credentials (user name = access key id, password = SES v4 SMTP password)');

  command
    .command('create')
    .description('create a credential; its secret and SMTP password are printed once and never stored')
    .requiredOption('--account <accountId>', 'account the credential sends for')
    .option('--user-name <name>', 'IAM-style user name (default: ses-smtp-user.<timestamp>)')
    .option('--policy <policy>', POLICY_HELP)
    .option('--json', 'print JSON')
    .action(async (options: { account: string; userName?: string; policy?: string; json?: boolean }, self: Command) => {
      const accessKeyId = generateAccessKeyId();
      const secretAccessKey = generateSecretAccessKey();
      const result = await withControlStore(self, async (store, config) => {
        const smtpPassword = deriveSmtpPassword(secretAccessKey, config.region);
        const credential = await storeCredential(store, config, { accountId: options.account, accessKeyId, userName: options.userName ?? defaultUserName(), smtpPassword, secretAccessKey, ...(options.policy ? { policy: options.policy } : {}) });
        return { credential, smtpPassword };
      });
      const data = { ...credentialJson(result.credential), SecretAccessKey: secretAccessKey, SmtpUserName: accessKeyId, SmtpPassword: result.smtpPassword };
      output(options.json, data, () =>
        [
          `SMTP user name:    ${accessKeyId}`,
          `SMTP password:     ${result.smtpPassword}`,
          `Secret access key: ${secretAccessKey}`,
          `Region:            ${result.credential.region}`,
          '',
          'This is the only time the password and secret are shown: relaygate keeps a hash of the password and the secret',
          'encrypted with http.secretKeyFile (for the HTTP API).',
        ].join('\n'),
      );
    });

  command
    .command('import')
    .description('import an existing SES credential so its SMTP user name and password keep working unchanged')
    .requiredOption('--account <accountId>', 'account the credential sends for')
    .requiredOption('--access-key-id <id>', 'the SES SMTP user name (the IAM access key id)')
    .option('--secret-access-key <secret>', 'the IAM secret access key; the SMTP password is derived for the gateway region')
    .option('--smtp-password <password>', 'or the SES SMTP password itself (for credentials created in the SES console)')
    .option('--user-name <name>', 'IAM user name the credential belongs to (default: ses-smtp-user.<timestamp>)')
    .option('--policy <policy>', POLICY_HELP)
    .option('--json', 'print JSON')
    .action(async (options: { account: string; accessKeyId: string; secretAccessKey?: string; smtpPassword?: string; userName?: string; policy?: string; json?: boolean }, self: Command) => {
      if ((options.secretAccessKey === undefined) === (options.smtpPassword === undefined)) throw new UsageError('give exactly one of --secret-access-key and --smtp-password');
      if (!ACCESS_KEY_ID.test(options.accessKeyId)) throw new UsageError(`--access-key-id "${options.accessKeyId}" is not an access key id (16-128 upper-case letters and digits)`);
      if (options.accessKeyId.startsWith('ASIA')) throw new UsageError('temporary (ASIA…) credentials cannot be used for SMTP, as in SES');
      if (options.smtpPassword !== undefined && !V4_PASSWORD.test(options.smtpPassword)) {
        throw new UsageError('--smtp-password is not an SES version 4 SMTP password (44 base64 characters starting with B); re-derive it with `relaygate smtp-password SECRET REGION`');
      }
      const credential = await withControlStore(self, (store, config) =>
        storeCredential(store, config, {
          accountId: options.account,
          accessKeyId: options.accessKeyId,
          userName: options.userName ?? defaultUserName(),
          smtpPassword: options.smtpPassword ?? deriveSmtpPassword(options.secretAccessKey as string, config.region),
          ...(options.secretAccessKey !== undefined ? { secretAccessKey: options.secretAccessKey } : {}),
          ...(options.policy ? { policy: options.policy } : {}),
        }),
      );
      const httpNote = credential.sealedSecret ? '' : '; SMTP only: the HTTP API needs the secret access key (import with --secret-access-key)';
      output(options.json, credentialJson(credential), () => `imported ${credential.accessKeyId} for account ${credential.accountId} (region ${credential.region})${httpNote}`);
    });

  command
    .command('list')
    .description('list credentials (never their passwords)')
    .option('--account <accountId>', 'only this account')
    .option('--json', 'print JSON')
    .action(async (options: { account?: string; json?: boolean }, self: Command) => {
      const credentials = await withControlStore(self, (store) => store.credentials.list(options.account));
      output(options.json, credentials.map(credentialJson), () =>
        table(
          ['ACCESS KEY ID', 'ACCOUNT', 'USER', 'REGION', 'STATUS', 'CREATED'],
          credentials.map((c) => [c.accessKeyId, c.accountId, c.userName, c.region, c.revokedAt ? 'Revoked' : 'Active', c.createdAt.toISOString()]),
        ),
      );
    });

  command
    .command('revoke')
    .description('revoke a credential; sessions using it can no longer send')
    .argument('<accessKeyId>')
    .option('--json', 'print JSON')
    .action(async (accessKeyId: string, options: { json?: boolean }, self: Command) => {
      const revoked = await withControlStore(self, async (store) => {
        if (!(await store.credentials.get(accessKeyId))) throw new NotFoundError(`credential ${accessKeyId}`);
        return store.credentials.revoke(accessKeyId);
      });
      output(options.json, { AccessKeyId: accessKeyId, Revoked: revoked }, () => (revoked ? `revoked ${accessKeyId}` : `${accessKeyId} was already revoked`));
    });

  return command;
}
