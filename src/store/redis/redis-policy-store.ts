import type { Redis } from 'ioredis';
import { NotFoundError } from '../control-store.js';
import { policyTarget, type PolicyStore, type PolicyTarget, type StoredPolicy } from '../policies.js';
import { policyTargetMember, type ControlKeys } from './control-keys.js';
import { runScript } from './control-scripts.js';

/** A policy's value in its target's hash. */
interface PolicyValue {
  document: string;
  updatedAt: number;
}

const toPolicy = (target: PolicyTarget, name: string, value: string): StoredPolicy => {
  const { document, updatedAt } = JSON.parse(value) as PolicyValue;
  return { target, name, document, updatedAt: new Date(updatedAt) };
};

export class RedisPolicyStore implements PolicyStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: ControlKeys,
  ) {}

  async put(target: PolicyTarget, name: string, document: string): Promise<StoredPolicy> {
    return this.restore({ target, name, document, updatedAt: new Date() });
  }

  /** Stores a policy as it is (an import keeps its update time); the account must exist, as SQLite's foreign key demands. */
  async restore(policy: StoredPolicy): Promise<StoredPolicy> {
    const { target } = policy;
    const value: PolicyValue = { document: policy.document, updatedAt: policy.updatedAt.getTime() };
    const keys = [this.keys.account(target.accountId), this.keys.policies(target), this.keys.policyTargets(target.accountId)];
    if ((await runScript(this.redis, 'relaygatePutPolicy', keys, [policyTargetMember(target), policy.name, JSON.stringify(value)])) !== 1) throw new NotFoundError(`account ${target.accountId}`);
    return policy;
  }

  async get(target: PolicyTarget, name: string): Promise<StoredPolicy | null> {
    const value = await this.redis.hget(this.keys.policies(target), name);
    return value === null ? null : toPolicy(target, name, value);
  }

  async list(target: PolicyTarget): Promise<StoredPolicy[]> {
    const values = await this.redis.hgetall(this.keys.policies(target));
    return Object.keys(values)
      .sort()
      .map((name) => toPolicy(target, name, values[name]!));
  }

  async delete(target: PolicyTarget, name: string): Promise<boolean> {
    return (await runScript(this.redis, 'relaygateDeletePolicy', [this.keys.policies(target), this.keys.policyTargets(target.accountId)], [policyTargetMember(target), name])) === 1;
  }

  async targets(accountId: string): Promise<PolicyTarget[]> {
    const members = await this.redis.zrange(this.keys.policyTargets(accountId), 0, -1);
    return members.map((member) => {
      const separator = member.indexOf(':');
      return policyTarget(accountId, member.slice(0, separator) as PolicyTarget['kind'], member.slice(separator + 1));
    });
  }
}
