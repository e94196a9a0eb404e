import { passwordMatches } from './credential-hash.js';
import type { Account, ControlStore, Credential } from '../store/control-store.js';

export interface AuthenticatedUser {
  accessKeyId: string;
  accountId: string;
  userName: string;
}

/** Checks an SMTP user name (access key id) and password against the stored credential hashes. */
export class SmtpAuthenticator {
  constructor(
    private readonly store: ControlStore,
    private readonly region: string,
  ) {}

  async authenticate(accessKeyId: string, password: string): Promise<{ credential: Credential; account: Account } | null> {
    const credential = await this.store.credentials.get(accessKeyId);
    // A credential for another region has another password (SES passwords are per region).
    if (!credential || credential.revokedAt || credential.region !== this.region) return null;
    if (!passwordMatches(password, credential.password)) return null;
    const account = await this.store.accounts.get(credential.accountId);
    return account ? { credential, account } : null;
  }
}
