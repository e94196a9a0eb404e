import { signMessage, type DkimSigner } from '../message/dkim/index.js';
import { fromDomain } from '../message/from-domain.js';
import type { MessageForDelivery } from '../queue/delivery-records.js';
import { messageParts } from '../queue/message-content.js';
import type { Spool } from '../queue/spool.js';
import type { DeliverySettings } from './delivery-settings.js';

/** What every transaction of a message shares, worked out once per message while it is being delivered. */
export interface PreparedMessage {
  row: MessageForDelivery;
  tlsPolicy: 'Require' | 'Optional';
  /** Configured IP pool name (unknown names already mapped to the default pool). */
  pool: string;
  /** DKIM-Signature field(s) to prepend; empty when nothing signs. */
  signature: Buffer;
  /** Domain of the envelope sender: the feedback domain or the identity's custom MAIL FROM domain. */
  returnPathDomain: string;
  /** Set when the message must bounce before any attempt (custom MAIL FROM without MX, RejectMessage): the reply to record. */
  rejection: string | null;
}

export interface MessagePreparerDependencies {
  settings: DeliverySettings;
  spool: Spool;
  feedbackDomain: string;
  /** The gateway's own signature, added to every message (SES adds d=amazonses.com). */
  gatewaySigner: DkimSigner | null;
  /** Maps a configuration set's pool name to a configured pool. */
  poolName: (name: string | undefined) => string;
  /** Whether a custom MAIL FROM domain has an MX record; throws on a temporary DNS failure. */
  hasMx: (domain: string) => Promise<boolean>;
  /** Stores a newly computed signature so retries reuse it. */
  storeSignature: (messageId: string, signature: Buffer) => void;
}

/** The keys that sign a message: its From identity's (of the identity's owner) and the gateway's own. */
export async function messageSigners(deps: Pick<MessagePreparerDependencies, 'settings' | 'gatewaySigner'>, identityAccountId: string, domain: string | null): Promise<DkimSigner[]> {
  return [...(domain === null ? [] : await deps.settings.dkimSigners(identityAccountId, domain)), ...(deps.gatewaySigner ? [deps.gatewaySigner] : [])];
}

export async function prepareMessage(row: MessageForDelivery, deps: MessagePreparerDependencies): Promise<PreparedMessage> {
  const domain = fromDomain(row.header);
  const setName = row.metadata.configurationSet;
  // A configuration set deleted after the message was accepted leaves SES's defaults.
  const configurationSet = setName ? await deps.settings.configurationSet(row.accountId, setName) : null;
  // The From identity's owner signs and gives the MAIL FROM domain (another account's, for delegated sending).
  const identityAccountId = row.metadata.identityAccountId ?? row.accountId;

  // Signed when it was accepted (submission/acceptance-signature.ts), or by an earlier attempt.
  let signature = row.dkimSignature;
  if (signature === null) {
    signature = Buffer.from(await signMessage(messageParts(deps.spool, row), await messageSigners(deps, identityAccountId, domain)), 'latin1');
    deps.storeSignature(row.id, signature);
  }

  let returnPathDomain = deps.feedbackDomain;
  let rejection: string | null = null;
  const customMailFrom = domain === null ? null : await deps.settings.customMailFrom(identityAccountId, domain);
  if (customMailFrom) {
    if (await deps.hasMx(customMailFrom.domain)) returnPathDomain = customMailFrom.domain;
    else if (customMailFrom.behaviorOnMxFailure === 'RejectMessage') {
      rejection = `550 5.7.1 Custom MAIL FROM domain ${customMailFrom.domain} has no MX record and its identity says RejectMessage (MailFromDomainNotVerified)`;
    }
  }

  return {
    row,
    tlsPolicy: configurationSet?.tlsPolicy ?? 'Optional',
    pool: deps.poolName(configurationSet?.sendingPoolName),
    signature,
    returnPathDomain,
    rejection,
  };
}
