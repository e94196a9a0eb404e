import { AlreadyExistsError, NotFoundError } from '../control-store.js';
import type { Identity, IdentityStore, NewIdentity } from '../identities.js';
import { prepared, type SqliteDatabase } from './database.js';
import { isUniqueViolation } from './sqlite-errors.js';

interface IdentityRow {
  account_id: string;
  name: string;
  type: Identity['type'];
  status: Identity['status'];
  verified_by: Identity['verifiedBy'];
  verification_token: string;
  pending_since: number | null;
  last_checked_at: number | null;
  dkim: string | null;
  mail_from: string | null;
  default_configuration_set: string | null;
  feedback_forwarding: number;
  notifications: string | null;
  created_at: number;
}

const dateOrNull = (value: number | null) => (value === null ? null : new Date(value));
const timeOrNull = (value: Date | null) => (value === null ? null : value.getTime());
const jsonOrNull = (value: unknown) => (value === null ? null : JSON.stringify(value));

const toIdentity = (row: IdentityRow): Identity => ({
  accountId: row.account_id,
  name: row.name,
  type: row.type,
  status: row.status,
  verifiedBy: row.verified_by,
  verificationToken: row.verification_token,
  pendingSince: dateOrNull(row.pending_since),
  lastCheckedAt: dateOrNull(row.last_checked_at),
  dkim: row.dkim === null ? null : JSON.parse(row.dkim),
  mailFrom: row.mail_from === null ? null : JSON.parse(row.mail_from),
  defaultConfigurationSet: row.default_configuration_set,
  feedbackForwarding: row.feedback_forwarding === 1,
  notifications: row.notifications === null ? {} : JSON.parse(row.notifications),
  createdAt: new Date(row.created_at),
});

const COLUMNS = 'status = @status, verified_by = @verifiedBy, verification_token = @verificationToken, pending_since = @pendingSince, last_checked_at = @lastCheckedAt, dkim = @dkim, mail_from = @mailFrom, default_configuration_set = @defaultConfigurationSet, feedback_forwarding = @feedbackForwarding, notifications = @notifications';

const toParameters = (identity: Identity) => ({
  accountId: identity.accountId,
  name: identity.name,
  type: identity.type,
  status: identity.status,
  verifiedBy: identity.verifiedBy,
  verificationToken: identity.verificationToken,
  pendingSince: timeOrNull(identity.pendingSince),
  lastCheckedAt: timeOrNull(identity.lastCheckedAt),
  dkim: jsonOrNull(identity.dkim),
  mailFrom: jsonOrNull(identity.mailFrom),
  defaultConfigurationSet: identity.defaultConfigurationSet,
  feedbackForwarding: identity.feedbackForwarding ? 1 : 0,
  notifications: Object.keys(identity.notifications).length === 0 ? null : JSON.stringify(identity.notifications),
  createdAt: identity.createdAt.getTime(),
});

export class SqliteIdentityStore implements IdentityStore {
  constructor(private readonly db: SqliteDatabase) {}

  async create(identity: NewIdentity): Promise<Identity> {
    const created: Identity = { feedbackForwarding: true, ...identity, notifications: identity.notifications ?? {}, createdAt: new Date() };
    try {
      prepared(this.db, 
          `INSERT INTO identities (account_id, name, type, status, verified_by, verification_token, pending_since, last_checked_at, dkim, mail_from, default_configuration_set, feedback_forwarding, notifications, created_at)
           VALUES (@accountId, @name, @type, @status, @verifiedBy, @verificationToken, @pendingSince, @lastCheckedAt, @dkim, @mailFrom, @defaultConfigurationSet, @feedbackForwarding, @notifications, @createdAt)`,
        )
        .run(toParameters(created));
    } catch (error) {
      if (isUniqueViolation(error)) throw new AlreadyExistsError(`identity ${identity.name}`);
      throw error;
    }
    return created;
  }

  async get(accountId: string, name: string): Promise<Identity | null> {
    const row = prepared(this.db, 'SELECT * FROM identities WHERE account_id = ? AND name = ?').get(accountId, name) as IdentityRow | undefined;
    return row ? toIdentity(row) : null;
  }

  async list(accountId?: string): Promise<Identity[]> {
    const rows = accountId
      ? prepared(this.db, 'SELECT * FROM identities WHERE account_id = ? ORDER BY name').all(accountId)
      : prepared(this.db, 'SELECT * FROM identities ORDER BY account_id, name').all();
    return (rows as IdentityRow[]).map(toIdentity);
  }

  async findByNames(accountId: string, names: readonly string[]): Promise<Identity[]> {
    if (names.length === 0) return [];
    const rows = prepared(this.db, `SELECT * FROM identities WHERE account_id = ? AND name IN (${names.map(() => '?').join(', ')})`)
      .all(accountId, ...names) as IdentityRow[];
    return rows.map(toIdentity);
  }

  async update(accountId: string, name: string, changes: Partial<Omit<Identity, 'accountId' | 'name' | 'type' | 'createdAt'>>): Promise<Identity> {
    const current = await this.get(accountId, name);
    if (!current) throw new NotFoundError(`identity ${name}`);
    const next = { ...current, ...changes };
    prepared(this.db, `UPDATE identities SET ${COLUMNS} WHERE account_id = @accountId AND name = @name`).run(toParameters(next));
    return next;
  }

  async delete(accountId: string, name: string): Promise<boolean> {
    const deleted = this.db.transaction(() => {
      prepared(this.db, "DELETE FROM policies WHERE account_id = ? AND target_kind = 'identity' AND target_name = ?").run(accountId, name);
      return prepared(this.db, 'DELETE FROM identities WHERE account_id = ? AND name = ?').run(accountId, name).changes;
    })();
    return deleted === 1;
  }
}
