import type { DeliveryConfig } from '../config/schema.js';
import type { DeliveryTarget } from './mx/index.js';
import { SmtpClient, type SmtpError, type TlsMode } from './smtp-client.js';
import type { SourceAddress } from './source-addresses.js';

/** Where a ready queue's connections go. */
export interface Destination {
  /** MX hosts in preference order, each with its addresses. */
  targets: readonly DeliveryTarget[];
  source: SourceAddress;
  /** 'opportunistic', 'required' or 'verified'; 'plaintext' is only ever a fallback. */
  tls: Exclude<TlsMode, 'plaintext'>;
}

export interface Connected {
  client: SmtpClient;
  mxHost: string;
  remoteAddress: string;
}

/** The source address could not be bound (it is not configured on this host): another address of the pool must be used. */
export class SourceUnavailableError extends Error {
  override readonly name = 'SourceUnavailableError';
}

/** No MX host could be reached or none took the session; `error` is the failure to report, `permanent` when retrying cannot help. */
export class ConnectFailure extends Error {
  override readonly name = 'ConnectFailure';

  constructor(
    readonly error: SmtpError,
    readonly permanent: boolean,
    readonly mxHost: string | null,
    readonly remoteAddress: string | null,
  ) {
    super(error.message);
  }
}

/** How long an MX address whose TLS handshake failed is spoken to in plaintext straight away. */
const BROKEN_TLS_MS = 60 * 60_000;
const BIND_ERRORS = new Set(['EADDRNOTAVAIL']);

/**
 * Opens a session to the first MX host that takes one: hosts in preference order, each of its addresses in turn
 * (RFC 5321 5.1). With opportunistic TLS a failed handshake is retried at once in plaintext, and that address is
 * remembered as broken for a while; a required TLS that the server does not offer is never given up.
 */
export class MxConnector {
  private readonly brokenTls = new Map<string, number>();

  constructor(
    private readonly config: DeliveryConfig,
    private readonly now: () => number = Date.now,
    private readonly ca?: string[],
  ) {}

  async connect(destination: Destination): Promise<Connected> {
    const failures: ConnectFailure[] = [];
    for (const target of destination.targets) {
      for (const address of target.addresses) {
        try {
          return await this.connectTo(address, target.exchange, destination);
        } catch (error) {
          const smtpError = error as SmtpError;
          if (BIND_ERRORS.has(smtpError.originalCode ?? '')) throw new SourceUnavailableError(`cannot send from ${destination.source.address}: ${smtpError.message}`);
          failures.push(new ConnectFailure(smtpError, destination.tls !== 'opportunistic' && tlsNotOffered(smtpError), target.exchange, address));
        }
      }
    }
    throw reportedFailure(failures);
  }

  private async connectTo(address: string, mxHost: string, destination: Destination): Promise<Connected> {
    const tls = destination.tls === 'opportunistic' && (this.brokenTls.get(address) ?? 0) > this.now() ? 'plaintext' : destination.tls;
    try {
      return { client: await this.open(address, mxHost, destination.source, tls), mxHost, remoteAddress: address };
    } catch (error) {
      if (tls !== 'opportunistic' || (error as SmtpError).code !== 'ETLS') throw error;
      // Optional TLS policy: a handshake that fails (old protocol versions, broken certificates) must not stop the
      // mail; the session is repeated without STARTTLS, as SES does with opportunistic TLS.
      this.brokenTls.set(address, this.now() + BROKEN_TLS_MS);
      return { client: await this.open(address, mxHost, destination.source, 'plaintext'), mxHost, remoteAddress: address };
    }
  }

  private open(address: string, mxHost: string, source: SourceAddress, tls: TlsMode): Promise<SmtpClient> {
    return SmtpClient.connect({
      host: address,
      port: this.config.port,
      servername: mxHost,
      localAddress: source.address || undefined,
      ehloName: source.ehloName,
      tls,
      connectTimeoutMs: this.config.connectTimeoutMs,
      greetingTimeoutMs: this.config.greetingTimeoutMs,
      dataTimeoutMs: this.config.dataTimeoutMs,
      ca: this.ca,
    });
  }
}

/** A required STARTTLS that the server refused or does not offer (a reply to STARTTLS, not a failed handshake). */
function tlsNotOffered(error: SmtpError): boolean {
  return error.code === 'ETLS' && error.command === 'STARTTLS' && typeof error.response === 'string';
}

/**
 * The failure a transaction is given when no MX host took it: permanent only when every host refused required TLS
 * (an unreachable host might still offer it later); otherwise the last reply of a host that answered, because it
 * says more than a connection that could not be made, else the last failure.
 */
function reportedFailure(failures: ConnectFailure[]): ConnectFailure {
  if (failures.length === 0) return new ConnectFailure(Object.assign(new Error('no MX address to connect to'), { code: 'ECONNECTION' }) as SmtpError, false, null, null);
  if (failures.every((failure) => failure.permanent)) return failures[0]!;
  const answered = failures.filter((failure) => !failure.permanent && typeof failure.error.response === 'string');
  const chosen = answered[answered.length - 1] ?? failures[failures.length - 1]!;
  return chosen.permanent ? new ConnectFailure(chosen.error, false, chosen.mxHost, chosen.remoteAddress) : chosen;
}
