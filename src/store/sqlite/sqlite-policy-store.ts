import { policyTarget, policyTargetName, type PolicyStore, type PolicyTarget, type StoredPolicy } from '../policies.js';
import { prepared, type SqliteDatabase } from './database.js';

interface PolicyRow {
  name: string;
  document: string;
  updated_at: number;
}

export class SqlitePolicyStore implements PolicyStore {
  constructor(private readonly db: SqliteDatabase) {}

  async put(target: PolicyTarget, name: string, document: string): Promise<StoredPolicy> {
    const updatedAt = Date.now();
    prepared(this.db, 
        `INSERT INTO policies (account_id, target_kind, target_name, name, document, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, target_kind, target_name, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
      )
      .run(target.accountId, target.kind, policyTargetName(target), name, document, updatedAt);
    return { target, name, document, updatedAt: new Date(updatedAt) };
  }

  async get(target: PolicyTarget, name: string): Promise<StoredPolicy | null> {
    const row = prepared(this.db, 'SELECT name, document, updated_at FROM policies WHERE account_id = ? AND target_kind = ? AND target_name = ? AND name = ?')
      .get(target.accountId, target.kind, policyTargetName(target), name) as PolicyRow | undefined;
    return row ? { target, name: row.name, document: row.document, updatedAt: new Date(row.updated_at) } : null;
  }

  async list(target: PolicyTarget): Promise<StoredPolicy[]> {
    const rows = prepared(this.db, 'SELECT name, document, updated_at FROM policies WHERE account_id = ? AND target_kind = ? AND target_name = ? ORDER BY name')
      .all(target.accountId, target.kind, policyTargetName(target)) as PolicyRow[];
    return rows.map((row) => ({ target, name: row.name, document: row.document, updatedAt: new Date(row.updated_at) }));
  }

  async delete(target: PolicyTarget, name: string): Promise<boolean> {
    return (
      prepared(this.db, 'DELETE FROM policies WHERE account_id = ? AND target_kind = ? AND target_name = ? AND name = ?').run(target.accountId, target.kind, policyTargetName(target), name)
        .changes === 1
    );
  }

  async targets(accountId: string): Promise<PolicyTarget[]> {
    const rows = prepared(this.db, 'SELECT DISTINCT target_kind, target_name FROM policies WHERE account_id = ? ORDER BY target_kind, target_name').all(accountId) as Array<{
      target_kind: PolicyTarget['kind'];
      target_name: string;
    }>;
    return rows.map((row) => policyTarget(accountId, row.target_kind, row.target_name));
  }
}
