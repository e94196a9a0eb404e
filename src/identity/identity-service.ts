import { randomBytes } from 'node:crypto';
import type { promises as dns } from 'node:dns';
import { generateDkimKey, publicKeyFromPrivate, type DkimKeyKind } from '../message/dkim/index.js';
import type { ControlStore } from '../store/control-store.js';
import { NotFoundError } from '../store/control-store.js';
import type { Identity, IdentityDkimKey, MailFromBehavior } from '../store/identities.js';
import { findDomainProof, findMailFromMx, nextStatus } from './dns-verification.js';
import { identityDomain, IdentityNameError, normalizeIdentityName } from './identity-name.js';

export type DkimOption = { generate: Extract<DkimKeyKind, 'rsa-2048' | 'rsa-1024'>; ed25519: boolean } | { privateKeyPem: string; selector: string } | false;

export interface CreateIdentityOptions {
  accountId: string;
  name: string;
  dkim: DkimOption;
  /** The operator owns the domain or mailbox and says so: verified without DNS or a confirmation. */
  verified: boolean;
  mailFrom?: { domain: string; behaviorOnMxFailure: MailFromBehavior };
  defaultConfigurationSet?: string;
}

/** An email confirmation token is valid this long, as SES's verification link. */
export const CONFIRMATION_VALIDITY_MS = 24 * 3600_000;

const token = () => randomBytes(16).toString('hex');
const selector = () => `rg${randomBytes(5).toString('hex')}`;

function dkimKeys(option: DkimOption): IdentityDkimKey[] {
  if (option === false) return [];
  if ('privateKeyPem' in option) return [{ selector: option.selector, privateKeyPem: option.privateKeyPem, ...publicKeyFromPrivate(option.privateKeyPem) }];
  const keys = [{ selector: selector(), ...generateDkimKey(option.generate) }];
  if (option.ed25519) keys.push({ selector: selector(), ...generateDkimKey('ed25519') });
  return keys;
}

/** A custom MAIL FROM domain must be a subdomain of the identity's domain (SES's rule). */
export function checkMailFromDomain(identityName: string, mailFromDomain: string): string {
  const { name, type } = normalizeIdentityName(mailFromDomain);
  const parent = identityDomain(identityName);
  if (type !== 'Domain' || !name.endsWith(`.${parent}`)) throw new IdentityNameError(`the MAIL FROM domain ${mailFromDomain} must be a subdomain of ${parent}`);
  return name;
}

export async function createIdentity(store: ControlStore, options: CreateIdentityOptions, now = new Date()): Promise<Identity> {
  if (!(await store.accounts.get(options.accountId))) throw new NotFoundError(`account ${options.accountId}`);
  const { name, type } = normalizeIdentityName(options.name);
  if (options.defaultConfigurationSet && !(await store.configurationSets.get(options.accountId, options.defaultConfigurationSet))) {
    throw new NotFoundError(`configuration set ${options.defaultConfigurationSet}`);
  }
  return store.identities.create({
    accountId: options.accountId,
    name,
    type,
    status: options.verified ? 'Success' : 'Pending',
    verifiedBy: options.verified ? 'operator' : null,
    verificationToken: token(),
    pendingSince: options.verified ? null : now,
    lastCheckedAt: null,
    dkim: type === 'Domain' && options.dkim !== false ? { enabled: true, origin: 'privateKeyPem' in options.dkim ? 'EXTERNAL' : 'RELAYGATE', keys: dkimKeys(options.dkim) } : null,
    mailFrom: options.mailFrom
      ? { domain: checkMailFromDomain(name, options.mailFrom.domain), behaviorOnMxFailure: options.mailFrom.behaviorOnMxFailure, status: 'Pending', pendingSince: now.getTime() }
      : null,
    defaultConfigurationSet: options.defaultConfigurationSet ?? null,
  });
}

/**
 * Checks an identity's DNS now and records the result: domains by their verification or DKIM
 * records, a custom MAIL FROM domain by its MX. Email identities are verified by confirmation.
 */
export async function verifyIdentityDns(store: ControlStore, identity: Identity, resolver: dns.Resolver, feedbackHost: string, now = new Date()): Promise<Identity> {
  const changes: Partial<Identity> = { lastCheckedAt: now };
  if (identity.type === 'Domain' && identity.verifiedBy !== 'operator') {
    const next = nextStatus(identity.status, identity.pendingSince, await findDomainProof(identity, resolver), now);
    Object.assign(changes, next, { verifiedBy: next.status === 'Success' ? 'dns' : identity.verifiedBy });
  }
  if (identity.mailFrom) {
    const { mailFrom } = identity;
    const since = mailFrom.pendingSince === null ? null : new Date(mailFrom.pendingSince);
    const next = nextStatus(mailFrom.status, since, await findMailFromMx(mailFrom, feedbackHost, resolver), now);
    changes.mailFrom = { ...mailFrom, status: next.status, pendingSince: next.pendingSince?.getTime() ?? null };
  }
  return store.identities.update(identity.accountId, identity.name, changes);
}

/** Confirms an email identity with the token it was sent; a wrong or expired token changes nothing. */
export async function confirmEmailIdentity(store: ControlStore, identity: Identity, presented: string, now = new Date()): Promise<'confirmed' | 'wrong-token' | 'expired'> {
  if (presented !== identity.verificationToken) return 'wrong-token';
  if (identity.pendingSince && now.getTime() - identity.pendingSince.getTime() > CONFIRMATION_VALIDITY_MS) return 'expired';
  await store.identities.update(identity.accountId, identity.name, { status: 'Success', verifiedBy: 'confirmation', pendingSince: null, lastCheckedAt: now });
  return 'confirmed';
}

/** A fresh confirmation token for an email identity (SES's "Resend"), valid 24 hours from now. */
export async function renewConfirmation(store: ControlStore, identity: Identity, now = new Date()): Promise<Identity> {
  return store.identities.update(identity.accountId, identity.name, { verificationToken: token(), status: identity.status === 'Success' ? 'Success' : 'Pending', pendingSince: now });
}
