import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CIPHERS, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';
import { makePrivateDirectory, writePrivateFile } from '../common/private-files.js';
import { ConfigError } from '../config/config-error.js';
import type { CertificateFiles, TlsConfig } from '../config/tls-options.js';

/** PEM private keys and their certificate chains, at most one of each key type (OpenSSL keeps one certificate per type). */
export interface CertificateSet {
  key: string[];
  cert: string[];
}

/**
 * The certificate material the listeners use; rebuilt from the files on SIGHUP. Plain data (strings, a Map, a Buffer),
 * so it can be sent to worker processes.
 *
 * The default set may hold an ECDSA and an RSA certificate: each handshake presents the ECDSA one when the client's
 * signature algorithms and cipher suites allow it. An SNI name has one certificate, which Node puts in place of the
 * default one of the same key type only (nodejs/node#54235): a client that picks the other key type under that name
 * gets the default certificate of that type.
 */
export interface TlsMaterial extends CertificateSet {
  sniOptions: Map<string, CertificateSet>;
  minVersion: TlsConfig['minVersion'];
  selfSigned: boolean;
  /**
   * The keys that encrypt session tickets (48 bytes, see newTicketKeys). A ticket resumes only in a process with the same
   * keys: every process serving the listeners must use this one value, and a SIGHUP reload keeps it.
   */
  ticketKeys: Buffer;
}

/**
 * How long a TLS session may be resumed (ticket lifetime, session-id cache): an hour, as Postfix's
 * smtpd_tls_session_cache_timeout, so a Postfix relayhost resumes across its connections for that long.
 */
export const TLS_SESSION_LIFETIME_SECONDS = 3600;

/** Session resumption needs the same session-id context in every process (the default derives from process.argv). */
const SESSION_ID_CONTEXT = 'relaygate';

/**
 * Node's default suites with the ECDSA ones ahead of the RSA ones. The server's order decides (honorCipherOrder), so a
 * TLS 1.2 client that could use either certificate gets the ECDSA one, whose signature is much cheaper to make.
 */
const ECDSA_FIRST_CIPHERS = (() => {
  const rank = (suite: string) => (suite.startsWith('TLS_') ? 0 : suite.includes('-ECDSA-') ? 1 : 2);
  return DEFAULT_CIPHERS.split(':')
    .sort((a, b) => rank(a) - rank(b))
    .join(':');
})();

/**
 * New session-ticket keys: 16 bytes name, 16 bytes HMAC key, 16 bytes AES key. They live in memory only (a ticket key
 * on disk would let whoever reads it decrypt every recorded session resumed with it); a restart makes new ones, after
 * which clients holding an old ticket do one full handshake.
 */
export function newTicketKeys(): Buffer {
  return randomBytes(48);
}

function readPem(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(option, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function keyType(pem: string, option: string): string {
  try {
    return createPrivateKey(pem).asymmetricKeyType ?? 'unknown';
  } catch (error) {
    throw new ConfigError(option, `not a usable private key: ${(error as Error).message}`);
  }
}

interface Certificate {
  key: string;
  cert: string;
  /** The key's type: 'ec', 'rsa', ... */
  type: string;
}

function readCertificate(files: CertificateFiles, certOption: string, keyOption: string): Certificate {
  const key = readPem(files.keyFile, keyOption);
  return { key, cert: readPem(files.certFile, certOption), type: keyType(key, keyOption) };
}

/** tls.certFile/keyFile, with tls.rsaCertFile/rsaKeyFile when set: then two certificates of different key types. */
function configuredDefaults(config: TlsConfig, certificate: CertificateFiles): Certificate[] {
  const main = readCertificate(certificate, 'tls.certFile', 'tls.keyFile');
  if (!config.rsaCertificate) return [main];
  const rsa = readCertificate(config.rsaCertificate, 'tls.rsaCertFile', 'tls.rsaKeyFile');
  if (rsa.type !== 'rsa') throw new ConfigError('tls.rsaKeyFile', `is an ${rsa.type} key, not an RSA one`);
  if (main.type === 'rsa') {
    throw new ConfigError('tls.keyFile', 'is an RSA key like tls.rsaKeyFile, and only one certificate per key type can be used: put the ECDSA certificate and key in tls.certFile and tls.keyFile');
  }
  return [main, rsa];
}

type SelfSignedKind = 'ec' | 'rsa';

/** File names in <dataDir>/tls/: the RSA pair keeps the name it had before the ECDSA one was added. */
const SELF_SIGNED_NAMES: Record<SelfSignedKind, string> = { ec: 'self-signed-ecdsa', rsa: 'self-signed' };

/** Where a self-signed certificate of each kind is kept. */
function selfSignedCertificatePaths(dataDir: string): Record<SelfSignedKind, string> {
  return { ec: join(dataDir, 'tls', `${SELF_SIGNED_NAMES.ec}.crt`), rsa: join(dataDir, 'tls', `${SELF_SIGNED_NAMES.rsa}.crt`) };
}

/** A self-signed certificate kept in the data directory, so restarts present the same one; made when missing. */
async function selfSignedCertificate(dataDir: string, hostname: string, kind: SelfSignedKind): Promise<Certificate> {
  const directory = join(dataDir, 'tls');
  const keyPath = join(directory, `${SELF_SIGNED_NAMES[kind]}.key`);
  const certPath = join(directory, `${SELF_SIGNED_NAMES[kind]}.crt`);
  if (existsSync(keyPath) && existsSync(certPath)) return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), type: kind };
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + 825 * 86_400_000);
  // Loaded only to make a certificate: selfsigned and its X.509 library take about 3.5 MB of every process's heap.
  const { generate } = await import('selfsigned');
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    ...(kind === 'ec' ? { keyType: 'ec', curve: 'P-256' } : { keyType: 'rsa', keySize: 2048 }),
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      // RSA keys may also encrypt the premaster secret (TLS 1.0-1.2 RSA key exchange); ECDSA keys only sign.
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: kind === 'rsa' },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  makePrivateDirectory(directory);
  writePrivateFile(keyPath, pems.private);
  writePrivateFile(certPath, pems.cert);
  return { key: pems.private, cert: pems.cert, type: kind };
}

/**
 * Reads the configured certificates, or the self-signed ECDSA and RSA ones (made on first use; a data directory from
 * before the ECDSA one keeps its RSA certificate and gets an ECDSA one next to it). `ticketKeys` are the ones every
 * process shares; a reload passes the current ones on.
 */
export async function loadTlsMaterial(config: TlsConfig, dataDir: string, hostname: string, log: Logger, ticketKeys: Buffer = newTicketKeys()): Promise<TlsMaterial> {
  let defaults: Certificate[];
  if (config.certificate) {
    defaults = configuredDefaults(config, config.certificate);
  } else {
    defaults = [await selfSignedCertificate(dataDir, hostname, 'ec'), await selfSignedCertificate(dataDir, hostname, 'rsa')];
    log.warn(
      { certificates: Object.values(selfSignedCertificatePaths(dataDir)) },
      'NO TLS CERTIFICATE CONFIGURED: using self-signed certificates. Clients that verify certificates will refuse them; set tls.certFile and tls.keyFile for production.',
    );
  }
  const sniOptions = new Map<string, CertificateSet>();
  for (const [name, files] of Object.entries(config.sni)) {
    const named = readCertificate(files, `tls.sni.${name}.certFile`, `tls.sni.${name}.keyFile`);
    if (named.type === 'rsa' && defaults.some((certificate) => certificate.type === 'ec')) {
      log.warn(
        { sni: name },
        `tls.sni.${name} is an RSA certificate: clients that can verify ECDSA get the default ECDSA certificate under this name (Node puts an SNI certificate only in place of the default one of its key type); use an ECDSA certificate for it`,
      );
    }
    sniOptions.set(name, { key: [named.key], cert: [named.cert] });
  }
  return {
    key: defaults.map((certificate) => certificate.key),
    cert: defaults.map((certificate) => certificate.cert),
    sniOptions,
    minVersion: config.minVersion,
    selfSigned: !config.certificate,
    ticketKeys,
  };
}

/**
 * TLS options for smtp-server and the HTTPS listeners: ECDSA preferred, session tickets under the shared keys, and
 * the same session-id context everywhere. TLS 1.0/1.1 need OpenSSL security level 0 to be usable at all.
 */
export function tlsServerOptions(material: TlsMaterial): SecureContextOptions & { sniOptions: Map<string, SecureContextOptions> } {
  const legacy = material.minVersion === 'TLSv1' || material.minVersion === 'TLSv1.1';
  const base = {
    minVersion: material.minVersion,
    ciphers: legacy ? `${ECDSA_FIRST_CIPHERS}:DEFAULT:@SECLEVEL=0` : ECDSA_FIRST_CIPHERS,
    honorCipherOrder: true,
    ticketKeys: material.ticketKeys,
    sessionIdContext: SESSION_ID_CONTEXT,
    sessionTimeout: TLS_SESSION_LIFETIME_SECONDS,
  };
  return {
    ...base,
    key: material.key,
    cert: material.cert,
    sniOptions: new Map([...material.sniOptions].map(([name, options]) => [name, { ...base, ...options }])),
  };
}
