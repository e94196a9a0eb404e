import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { normalizeIdentityName } from '../../identity/identity-name.js';
import { formatPolicyDocument, identityArn, parsePolicyDocument } from '../../policy/iam/index.js';
import { NotFoundError } from '../../store/control-store.js';
import { MAX_POLICIES_PER_IDENTITY, MAX_POLICY_BYTES, POLICY_NAME, type PolicyTarget, type StoredPolicy } from '../../store/policies.js';
import { output, table, UsageError, withControlStore } from '../cli-context.js';

interface TargetOptions {
  account: string;
  user?: string;
  identity?: string;
  json?: boolean;
}

function target(options: TargetOptions): PolicyTarget {
  if ((options.user === undefined) === (options.identity === undefined)) throw new UsageError('give exactly one of --user (an IAM policy) and --identity (a sending authorization policy)');
  return options.user !== undefined
    ? { kind: 'user', accountId: options.account, userName: options.user }
    : { kind: 'identity', accountId: options.account, identity: normalizeIdentityName(options.identity as string).name };
}

const policyJson = (policy: StoredPolicy) => ({
  PolicyName: policy.name,
  AttachedTo: policy.target.kind === 'user' ? { User: policy.target.userName } : { Identity: policy.target.identity },
  AccountId: policy.target.accountId,
  Policy: JSON.parse(policy.document) as unknown,
  UpdatedAt: policy.updatedAt.toISOString(),
});

function withTarget(command: Command): Command {
  return command
    .requiredOption('--account <accountId>', 'account of the user or identity')
    .option('--user <name>', 'IAM-style user (the credentials\' UserName): an IAM policy')
    .option('--identity <identity>', 'identity of the account: a sending authorization policy for other accounts')
    .option('--json', 'print JSON');
}

export function policyCommand(): Command {
  const command = new Command('policy').description("manage IAM policies of credentials' users and sending authorization policies of identities");

  withTarget(command.command('put').description('create or replace a policy (validated first)').argument('<policyName>'))
    .requiredOption('--file <file>', 'policy document (JSON), or - for standard input')
    .action(async (name: string, options: TargetOptions & { file: string }, self: Command) => {
      if (!POLICY_NAME.test(name)) throw new UsageError(`policy name "${name}" must be 1-64 letters, digits, '-' or '_'`);
      const text = readFileSync(options.file === '-' ? 0 : options.file, 'utf8');
      if (Buffer.byteLength(text) > MAX_POLICY_BYTES) throw new UsageError(`the policy is ${Buffer.byteLength(text)} bytes; SES allows 4 KB`);
      const where = target(options);
      const stored = await withControlStore(self, async (store, config) => {
        if (where.kind === 'identity') {
          if (!(await store.identities.get(where.accountId, where.identity))) throw new NotFoundError(`identity ${where.identity} in account ${where.accountId}`);
          const existing = await store.policies.list(where);
          if (existing.length >= MAX_POLICIES_PER_IDENTITY && !existing.some((policy) => policy.name === name)) throw new UsageError(`an identity has at most ${MAX_POLICIES_PER_IDENTITY} policies`);
        } else if (!(await store.accounts.get(where.accountId))) throw new NotFoundError(`account ${where.accountId}`);
        const attachedTo = where.kind === 'identity' ? identityArn(config.region, where.accountId, where.identity) : undefined;
        const document = parsePolicyDocument(text, { kind: where.kind, attachedTo });
        return store.policies.put(where, name, formatPolicyDocument(document));
      });
      output(options.json, policyJson(stored), () => `stored policy ${name}`);
    });

  withTarget(command.command('get').description('print a policy').argument('<policyName>')).action(async (name: string, options: TargetOptions, self: Command) => {
    const policy = await withControlStore(self, (store) => store.policies.get(target(options), name));
    if (!policy) throw new NotFoundError(`policy ${name}`);
    output(options.json, policyJson(policy), () => policy.document);
  });

  withTarget(command.command('list').description('list the policies of a user or identity')).action(async (options: TargetOptions, self: Command) => {
    const policies = await withControlStore(self, (store) => store.policies.list(target(options)));
    output(options.json, policies.map(policyJson), () => table(['POLICY', 'UPDATED'], policies.map((policy) => [policy.name, policy.updatedAt.toISOString()])));
  });

  withTarget(command.command('delete').description('delete a policy (there is no way to get it back)').argument('<policyName>')).action(
    async (name: string, options: TargetOptions, self: Command) => {
      const deleted = await withControlStore(self, (store) => store.policies.delete(target(options), name));
      if (!deleted) throw new NotFoundError(`policy ${name}`);
      output(options.json, { PolicyName: name, Deleted: true }, () => `deleted policy ${name}`);
    },
  );

  return command;
}
