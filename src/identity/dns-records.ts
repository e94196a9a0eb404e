import { dkimRecordName, dkimTxtRecord } from '../message/dkim/index.js';
import type { Identity } from '../store/identities.js';

export interface DnsRecord {
  name: string;
  type: 'TXT' | 'MX';
  value: string;
  purpose: string;
}

/** The TXT record that proves control of a domain (an alternative to publishing the DKIM keys). */
export const verificationRecordName = (domain: string) => `_relaygate.${domain}`;
export const verificationRecordValue = (token: string) => `relaygate-verification=${token}`;

/**
 * Everything an operator publishes for an identity: its DKIM keys (which also verify a domain), the
 * verification token, and a custom MAIL FROM domain's MX and SPF records.
 */
export interface MailFromTargets {
  /** Where bounces for a custom MAIL FROM domain are delivered (its MX). */
  feedbackHost: string;
  /** The SPF record a custom MAIL FROM domain publishes (authorising the gateway's sending addresses). */
  spfRecord: string;
}

export function identityDnsRecords(identity: Identity, targets: MailFromTargets): DnsRecord[] {
  const records: DnsRecord[] = [];
  const domain = identity.name.slice(identity.name.lastIndexOf('@') + 1);
  for (const key of identity.dkim?.keys ?? []) {
    records.push({ name: dkimRecordName(key.selector, domain), type: 'TXT', value: dkimTxtRecord(key), purpose: `DKIM public key (${key.algorithm})` });
  }
  if (identity.type === 'Domain') {
    records.push({ name: verificationRecordName(domain), type: 'TXT', value: verificationRecordValue(identity.verificationToken), purpose: 'domain verification' });
  }
  if (identity.mailFrom) {
    records.push({ name: identity.mailFrom.domain, type: 'MX', value: `10 ${targets.feedbackHost}`, purpose: 'custom MAIL FROM: bounces come back to the gateway' });
    records.push({ name: identity.mailFrom.domain, type: 'TXT', value: targets.spfRecord, purpose: 'custom MAIL FROM: SPF for the sending addresses' });
  }
  return records;
}
