import type { ClusterConfig } from './cluster-options.js';
import type { EventsConfig } from './events-options.js';
import type { VerificationConfig } from './verification-options.js';
import type { ReputationConfig } from './reputation-options.js';
import type { HttpConfig } from './http-options.js';
import type { TlsConfig } from './tls-options.js';

/** The gateway's configuration: one typed object, every option with its default (see config/relaygate.example.yaml). */

export type ListenerMode = 'starttls' | 'tls';

export interface ListenerConfig {
  host: string;
  port: number;
  mode: ListenerMode;
  /** Also takes unauthenticated feedback (bounces, complaints, automatic replies) for the gateway's return paths; every port-25 listener does. */
  intake: boolean;
}

export interface SmtpConfig {
  /** Name in the greeting, EHLO reply and generated Message-IDs. */
  hostname: string;
  /** Text after "ESMTP" in the 220 greeting. */
  banner: string;
  maxMessageBytes: number;
  /** Size the dead-letter folder of feedback intake is kept within, the oldest letters removed first. */
  deadLetterMaxBytes: number;
  maxRecipients: number;
  /** Concurrent connections over all listeners. */
  maxConnections: number;
  /**
   * Processes that run the sessions (TLS, SMTP, the HTTP API, the send path up to the commit) beside the primary, which
   * delivers; 1 runs them in the primary itself.
   */
  workers: number;
  /** Concurrent connections from one client address. */
  maxConnectionsPerAddress: number;
  /** Silence tolerated from a client at any point of the session. */
  idleTimeoutSeconds: number;
  /** A TLS handshake (on the TLS-wrapper ports, or after STARTTLS) not finished within this long is cut off. */
  tlsHandshakeTimeoutSeconds: number;
  /** Commands a client may send before it has authenticated (AUTH itself not counted). */
  maxCommandsBeforeAuth: number;
  /** Time from connecting to a successful AUTH. */
  authTimeoutSeconds: number;
  /** Longest a message transfer (DATA up to the final dot) may take, however fast it is. */
  dataTimeoutSeconds: number;
  /** Slowest average a message may arrive at: DATA may last idleTimeoutSeconds plus one second per this many bytes; 0 turns the check off. */
  dataMinBytesPerSecond: number;
  /** Longest a connection may stay open; it is closed between messages. */
  maxSessionSeconds: number;
  /** On SIGTERM, how long a message still being received may take before every connection is closed. */
  shutdownTimeoutSeconds: number;
  /** Networks (CIDR) allowed to AUTH and send without TLS, e.g. a local application on 127.0.0.1/32. */
  plaintextNetworks: string[];
  /** Domain part of the Message-ID header the gateway sets. */
  messageIdDomain: string;
}

/**
 * Failed AUTH is counted per user name at one address, per user name over all addresses and per address over all
 * user names, so one user's typos behind a shared (NAT) address do not lock out the others there.
 */
export interface AuthThrottleConfig {
  /** Failures of one user name from one address that are answered without delay. */
  freeFailures: number;
  /** Delay added to each further 535 reply for that user name at that address, growing linearly. */
  delayStepMs: number;
  maxDelayMs: number;
  /** Failures of one user name from one address within the window after which that user name is refused there. */
  blockAfterFailures: number;
  /** Failures of one user name from all addresses after which it is refused everywhere. */
  userBlockAfterFailures: number;
  /** Failures from one address, all user names together, after which the address is refused. */
  addressBlockAfterFailures: number;
  windowSeconds: number;
  blockSeconds: number;
}

export interface DnsConfig {
  /** Resolvers as `ip` or `ip:port` (e.g. a local test server on 127.0.0.1:5353); empty uses the system's. */
  servers: string[];
  timeoutMs: number;
}

/** A local address mail is sent from (bound with localAddress, so it must be configured on this host). */
export interface SourceAddressConfig {
  address: string;
  /** Name sent in EHLO from this address; it should be the address's PTR name. Defaults to smtp.hostname. */
  ehloName: string;
  /** Null for an address that is already warm; otherwise it ramps up over delivery.warmup from startedOn (YYYY-MM-DD, UTC), or, when that is null, from the first day the gateway ran with it (kept in queue.db). */
  warmup: { startedOn: string | null } | null;
}

export interface IpPoolConfig {
  addresses: SourceAddressConfig[];
}

/** Limits that hold per source address and destination; every field defaults to the delivery section's own. */
export interface ShapingLimits {
  /** Simultaneous connections. */
  maxConnections: number;
  /** Messages sent over one connection before it is closed and a new one opened. */
  messagesPerConnection: number;
  /** Messages per second; 0 means no limit. */
  messagesPerSecond: number;
}

/** Destinations that share one set of limits: a recipient domain ("example.com", or "*.example.com" for its subdomains) and/or an MX host suffix (".google.com": every domain hosted there). */
export interface ShapingRuleConfig extends ShapingLimits {
  match: { domain: string | null; mxSuffix: string | null };
}

export interface WarmupConfig {
  /** Length of the ramp; the SES guide's automatic warm-up takes 45 days. */
  days: number;
  /** Recipients a warming address may take on its first day, growing geometrically to lastDayLimit on its last day. */
  firstDayLimit: number;
  lastDayLimit: number;
}

export interface RetryConfig {
  /** Delay after the first temporary failure; it doubles after each further one (plus or minus 20 % jitter). */
  firstDelaySeconds: number;
  /** Ceiling of the doubling delay. */
  maxDelaySeconds: number;
}

/** The gateway's own DKIM signature, added to every message besides the identity's (as SES adds d=amazonses.com). */
export interface GatewayDkimConfig {
  domain: string;
  selector: string;
  /** PEM private key (RSA or Ed25519). */
  keyFile: string;
}

export interface DeliveryConfig {
  /** False keeps accepted mail queued without delivering it (maintenance, or tests of submission alone). */
  enabled: boolean;
  /** TCP port of the MX hosts; 25 except in tests. */
  port: number;
  /** Deliver to MX hosts on loopback, private and reserved addresses (refused by default: an MX pointing there is a misconfiguration or an attack). */
  allowPrivateAddresses: boolean;
  retry: RetryConfig;
  /** How long temporary failures are retried before the recipient bounces; RFC 5321 4.5.4.1 says at least 4-5 days. */
  queueLifetimeHours: number;
  /**
   * How long a message every recipient is done with stays in queue.db (for `queue show`, and to match bounces and
   * complaints that come back later by mail) before it is removed with its results.
   */
  completedRetentionHours: number;
  /**
   * MX addresses tried per connection attempt, in preference order (Postfix's smtp_mx_address_limit): each may cost
   * connectTimeoutMs, and a recipient domain may publish thousands.
   */
  maxMxAddresses: number;
  /** Time to open the TCP connection. */
  connectTimeoutMs: number;
  /** Time to wait for the 220 greeting (RFC 5321 4.5.3.2: 5 minutes). */
  greetingTimeoutMs: number;
  /** Silence tolerated while waiting for any later reply; RFC 5321 allows up to 10 minutes after the final dot. */
  dataTimeoutMs: number;
  /** Limits for destinations no shaping rule matches; also the defaults of the rules' own limits. */
  maxConnections: number;
  messagesPerConnection: number;
  messagesPerSecond: number;
  /** Named groups of source addresses; with none, mail leaves from the system's default address. */
  pools: Record<string, IpPoolConfig>;
  /** Pool used when the message's configuration set names none. */
  defaultPool: string;
  /** First matching rule wins. */
  shaping: ShapingRuleConfig[];
  warmup: WarmupConfig;
  /** Domain of the envelope sender (return path) that asynchronous bounces come back to; defaults to smtp.hostname. */
  feedbackDomain: string;
  dkim: GatewayDkimConfig | null;
}


export interface LogConfig {
  level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

export interface GatewayConfig {
  /** SES region the gateway answers for: part of the SMTP password derivation and of ARNs. */
  region: string;
  dataDir: string;
  listeners: ListenerConfig[];
  /** True when the listeners are the built-in defaults (they may fall back to unprivileged ports). */
  defaultListeners: boolean;
  tls: TlsConfig;
  smtp: SmtpConfig;
  authThrottle: AuthThrottleConfig;
  dns: DnsConfig;
  delivery: DeliveryConfig;
  verification: VerificationConfig;
  reputation: ReputationConfig;
  events: EventsConfig;
  /** The SES HTTP API and the metrics/health listener. */
  http: HttpConfig;
  cluster: ClusterConfig;
  log: LogConfig;
}

/** Largest message SES accepts; the configurable ceiling for smtp.maxMessageBytes. */
export const MAX_MESSAGE_BYTES_CEILING = 40 * 1024 * 1024;

export const DEFAULT_LISTENERS: readonly ListenerConfig[] = [
  { host: '0.0.0.0', port: 25, mode: 'starttls', intake: true },
  { host: '0.0.0.0', port: 587, mode: 'starttls', intake: false },
  { host: '0.0.0.0', port: 2587, mode: 'starttls', intake: false },
  { host: '0.0.0.0', port: 465, mode: 'tls', intake: false },
  { host: '0.0.0.0', port: 2465, mode: 'tls', intake: false },
];

/** Where a default privileged listener moves when the process may not bind ports below 1024. */
export const UNPRIVILEGED_PORTS: Readonly<Record<number, number>> = { 25: 2525, 587: 2587, 465: 2465 };
