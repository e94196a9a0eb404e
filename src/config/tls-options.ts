import { ConfigError } from './config-error.js';
import type { OptionReader } from './option-reader.js';

export type TlsVersion = 'TLSv1' | 'TLSv1.1' | 'TLSv1.2' | 'TLSv1.3';

const TLS_VERSIONS: readonly TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/** A PEM certificate chain and its private key. */
export interface CertificateFiles {
  certFile: string;
  keyFile: string;
}

export interface TlsConfig {
  /**
   * tls.certFile/keyFile: the certificate presented unless SNI picks another, ECDSA (cheaper handshakes) or RSA; null:
   * a self-signed ECDSA P-256 certificate and an RSA one are generated into the data directory.
   */
  certificate: CertificateFiles | null;
  /** tls.rsaCertFile/rsaKeyFile: an RSA certificate next to an ECDSA one, for clients that cannot verify ECDSA. */
  rsaCertificate: CertificateFiles | null;
  /** Per-hostname certificates chosen by SNI, one each (see TlsMaterial for how they combine with the default ones). */
  sni: Record<string, CertificateFiles>;
  minVersion: TlsVersion;
}

/** Two options that name one certificate's files; null when neither is set. */
function readPair(reader: OptionReader, certKey: string, keyKey: string): CertificateFiles | null {
  const certFile = reader.optionalString(certKey);
  const keyFile = reader.optionalString(keyKey);
  if (certFile === null && keyFile === null) return null;
  if (certFile === null || keyFile === null) throw new ConfigError(reader.name(certKey), `${reader.name(certKey)} and ${reader.name(keyKey)} must be set together`);
  return { certFile, keyFile };
}

export function readTlsConfig(reader: OptionReader): TlsConfig {
  const certificate = readPair(reader, 'certFile', 'keyFile');
  const rsaCertificate = readPair(reader, 'rsaCertFile', 'rsaKeyFile');
  if (rsaCertificate && !certificate) throw new ConfigError(reader.name('rsaCertFile'), 'needs certFile and keyFile (the ECDSA certificate) as well');
  const config = {
    certificate,
    rsaCertificate,
    sni: Object.fromEntries(
      reader.mapping('sni').map(([name, entry]) => {
        const files = readPair(entry, 'certFile', 'keyFile');
        if (files === null) throw new ConfigError(entry.name('certFile'), 'certFile and keyFile are both required');
        entry.rejectUnknown();
        return [name.toLowerCase(), files];
      }),
    ),
    minVersion: reader.oneOf('minVersion', 'TLSv1.2', TLS_VERSIONS),
  };
  reader.rejectUnknown();
  return config;
}
