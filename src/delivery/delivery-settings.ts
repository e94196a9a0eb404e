import type { DkimSigner } from '../message/dkim/index.js';

/** A configuration set's delivery options (SES PutConfigurationSetDeliveryOptions). */
export interface ConfigurationSetDelivery {
  /** Require: deliver only over TLS, bounce otherwise. Optional: opportunistic STARTTLS, plaintext when it fails. */
  tlsPolicy: 'Require' | 'Optional';
  sendingPoolName?: string;
}

/** An identity's custom MAIL FROM domain and what to do when it has no MX record. */
export interface CustomMailFrom {
  domain: string;
  behaviorOnMxFailure: 'UseDefaultValue' | 'RejectMessage';
}

/**
 * What the delivery engine needs from the control plane (identities and configuration sets). Identity settings are
 * asked of the account that owns the From identity (the message's identityAccountId: the sender's, or the delegating
 * owner's); configuration sets of the sending account.
 */
export interface DeliverySettings {
  /** Signers of the account's most specific verified domain identity covering the From domain (empty when it signs nothing). */
  dkimSigners(identityAccountId: string, fromDomain: string): Promise<DkimSigner[]>;
  configurationSet(accountId: string, name: string): Promise<ConfigurationSetDelivery | null>;
  /** The custom MAIL FROM of the same identity as dkimSigners. */
  customMailFrom(identityAccountId: string, fromDomain: string): Promise<CustomMailFrom | null>;
  /** Which recipients are on the sending account's suppression list, where the list applies to mail sent with that configuration set. */
  suppressedRecipients(accountId: string, configurationSet: string | null, recipients: readonly string[]): Promise<Set<string>>;
}

export interface StaticDeliverySettings {
  /** By From domain. */
  dkimSigners?: Record<string, DkimSigner[]>;
  /** By configuration set name. */
  configurationSets?: Record<string, ConfigurationSetDelivery>;
  /** By From domain. */
  customMailFrom?: Record<string, CustomMailFrom>;
}

/** Fixed settings, the same for every account: for tests, and for a gateway without identities or configuration sets. */
export function staticDeliverySettings(settings: StaticDeliverySettings = {}): DeliverySettings {
  return {
    dkimSigners: async (_accountId, fromDomain) => settings.dkimSigners?.[fromDomain] ?? [],
    configurationSet: async (_accountId, name) => settings.configurationSets?.[name] ?? null,
    customMailFrom: async (_accountId, fromDomain) => settings.customMailFrom?.[fromDomain] ?? null,
    suppressedRecipients: async () => new Set(),
  };
}
