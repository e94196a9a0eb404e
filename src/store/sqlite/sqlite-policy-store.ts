import type { PolicyStore, PolicyTarget, StoredPolicy } from '../policies.js';
import { prepared, type SqliteDatabase } from './database.js';

interface PolicyRow {
  name: string;
  document: string;
  updated_at: number;
}

const targetName = (target: PolicyTarget) => (target.kind === 'user' ? target.userName : target.identity);

export class SqlitePolicyStore implements PolicyStore {
  constructor(private readonly db: SqliteDatabase) {}

  async put(target: PolicyTarget, name: string, document: string): Promise<StoredPolicy> {
    const updatedAt = Date.now();
    prepared(this.db, 
        `INSERT INTO policies (account_id, target_kind, target_name, name, document, updated_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (account_id, target_kind, target_name, name) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at`,
      )
      .run(target.accountId, target.kind, targetName(target), name, document, updatedAt);
    return { target, name, document, updatedAt: new Date(updatedAt) };
  }

  async get(target: PolicyTarget, name: string): Promise<StoredPolicy | null> {
    const row = prepared(this.db, 'SELECT name, document, updated_at FROM policies WHERE account_id = ? AND target_kind = ? AND target_name = ? AND name = ?')
      .get(target.accountId, target.kind, targetName(target), name) as PolicyRow | undefined;
    return row ? { target, name: row.name, document: row.document, updatedAt: new Date(row.updated_at) } : null;
  }

  async list(target: PolicyTarget): Promise<StoredPolicy[]> {
    const rows = prepared(this.db, 'SELECT name, document, updated_at FROM policies WHERE account_id = ? AND target_kind = ? AND target_name = ? ORDER BY name')
      .all(target.accountId, target.kind, targetName(target)) as PolicyRow[];
    return rows.map((row) => ({ target, name: row.name, document: row.document, updatedAt: new Date(row.updated_at) }));
  }

  async delete(target: PolicyTarget, name: string): Promise<boolean> {
    return (
      prepared(this.db, 'DELETE FROM policies WHERE account_id = ? AND target_kind = ? AND target_name = ? AND name = ?').run(target.accountId, target.kind, targetName(target), name)
        .changes === 1
    );
  }
}
