/** The gateway's configuration: one typed object, every option with its default (see config/relaygate.example.yaml). */

export type ListenerMode = 'starttls' | 'tls';

export interface ListenerConfig {
  host: string;
  port: number;
  mode: ListenerMode;
}

export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

export interface TlsConfig {
  /** PEM certificate chain and key; when both are unset a self-signed pair is generated in the data directory. */
  certFile: string | null;
  keyFile: string | null;
  /** Per-hostname certificates chosen by SNI. */
  sni: Record<string, CertificateFiles>;
  minVersion: TlsVersion;
}

export interface SmtpConfig {
  /** Name in the greeting, EHLO reply and generated Message-IDs. */
  hostname: string;
  /** Text after "ESMTP" in the 220 greeting. */
  banner: string;
  maxMessageBytes: number;
  maxRecipients: number;
  maxConnections: number;
  idleTimeoutSeconds: number;
  /** Networks (CIDR) allowed to AUTH and send without TLS, e.g. a local application on 127.0.0.1/32. */
  plaintextNetworks: string[];
  /** Domain part of the Message-ID header the gateway sets. */
  messageIdDomain: string;
}

export interface AuthThrottleConfig {
  /** Failures from one address that are answered without delay. */
  freeFailures: number;
  /** Delay added to each 535 reply after the free failures, growing linearly. */
  delayStepMs: number;
  maxDelayMs: number;
  /** Failures within the window after which the address is refused. */
  blockAfterFailures: number;
  windowSeconds: number;
  blockSeconds: number;
}

export interface DnsConfig {
  /** Resolvers as `ip` or `ip:port` (e.g. a local test server on 127.0.0.1:5353); empty uses the system's. */
  servers: string[];
  timeoutMs: number;
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
  log: LogConfig;
}

/** Largest message SES accepts; the configurable ceiling for smtp.maxMessageBytes. */
export const MAX_MESSAGE_BYTES_CEILING = 40 * 1024 * 1024;

export const DEFAULT_LISTENERS: readonly ListenerConfig[] = [
  { host: '0.0.0.0', port: 25, mode: 'starttls' },
  { host: '0.0.0.0', port: 587, mode: 'starttls' },
  { host: '0.0.0.0', port: 2587, mode: 'starttls' },
  { host: '0.0.0.0', port: 465, mode: 'tls' },
  { host: '0.0.0.0', port: 2465, mode: 'tls' },
];

/** Where a default privileged listener moves when the process may not bind ports below 1024. */
export const UNPRIVILEGED_PORTS: Readonly<Record<number, number>> = { 25: 2525, 587: 2587, 465: 2465 };
