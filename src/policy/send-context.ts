import type { Account, ControlStore } from '../store/control-store.js';
import type { ConfigurationSet } from '../store/configuration-sets.js';
import type { Identity } from '../store/identities.js';
import { headerMailboxes, type Mailbox } from '../message/addresses.js';
import { resolveIdentities } from '../identity/identity-resolver.js';
import type { SendRequest } from './send-request.js';

/** Another account's identity that a sending-authorization policy lets this sender use (X-SES-*-ARN). */
export interface DelegatedIdentity {
  arn: string;
  ownerAccount: Account;
  identity: Identity;
}

/**
 * One message's way through the policy steps: the request, what was derived from it once (header
 * addresses), and what earlier steps found out for later ones (account, configuration set, tags,
 * delegated identities).
 */
export class SendContext {
  readonly from: Mailbox[];
  readonly sender: Mailbox | undefined;
  readonly returnPath: string | undefined;
  private loadedAccount: Account | undefined;
  configurationSet: ConfigurationSet | null = null;
  /** ARN of the identity the message is sent as (events' mail.sourceArn), set once the senders are known to be verified. */
  sourceArn: string | undefined;
  readonly tags: Record<string, string[]> = {};
  /** X-SES-MESSAGE-TAGS entries left out for characters outside SES's set. */
  readonly droppedTags: string[] = [];
  /** Delegated identities by the address they authorize. */
  readonly delegated = new Map<string, DelegatedIdentity>();
  private senderIdentities: Promise<Map<string, Identity>> | undefined;

  constructor(readonly request: SendRequest) {
    this.from = headerMailboxes(request.headers, 'From');
    this.sender = headerMailboxes(request.headers, 'Sender')[0];
    this.returnPath = headerMailboxes(request.headers, 'Return-Path')[0]?.address;
  }

  get account(): Account {
    if (!this.loadedAccount) throw new Error('policy step order: the account is loaded by the first step');
    return this.loadedAccount;
  }

  set account(account: Account) {
    this.loadedAccount = account;
  }

  /** The addresses SES requires to be verified: envelope sender, From, Sender and Return-Path. */
  get senderAddresses(): string[] {
    const addresses = [this.request.mailFrom, ...this.from.map((mailbox) => mailbox.address), this.sender?.address, this.returnPath];
    return [...new Set(addresses.filter((address): address is string => Boolean(address)))];
  }

  /** The account's own verified identities covering the sender addresses (looked up once). */
  ownSenderIdentities(store: ControlStore): Promise<Map<string, Identity>> {
    this.senderIdentities ??= resolveIdentities(store.identities, this.account.id, this.senderAddresses);
    return this.senderIdentities;
  }

  /**
   * The account owning the From address's identity, whose DKIM key and custom MAIL FROM apply: the identity's owner
   * when a sending-authorization policy lets this sender use it (SES signs as the owner), else the sending account.
   */
  get identityAccountId(): string {
    const from = this.from[0]?.address;
    return (from === undefined ? undefined : this.delegated.get(from)?.ownerAccount.id) ?? this.account.id;
  }

  /** Where feedback goes: the Return-Path header if given, else the envelope sender (ses:FeedbackAddress). */
  get feedbackAddress(): string {
    return this.returnPath ?? this.request.mailFrom;
  }
}
