import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import { generate } from 'selfsigned';
import type { Logger } from 'pino';
import { makePrivateDirectory, writePrivateFile } from '../common/private-files.js';
import { ConfigError } from '../config/config-error.js';
import type { TlsConfig } from '../config/schema.js';

/** The certificate material the listeners use; rebuilt from the files on SIGHUP. */
export interface TlsMaterial {
  key: string;
  cert: string;
  sniOptions: Map<string, SecureContextOptions>;
  minVersion: TlsConfig['minVersion'];
  selfSigned: boolean;
}

function readPem(path: string, option: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(option, `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** A self-signed certificate kept in the data directory, so restarts present the same one. */
async function selfSignedPair(dataDir: string, hostname: string): Promise<{ key: string; cert: string }> {
  const directory = join(dataDir, 'tls');
  const keyPath = join(directory, 'self-signed.key');
  const certPath = join(directory, 'self-signed.crt');
  if (existsSync(keyPath) && existsSync(certPath)) return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate.getTime() + 825 * 86_400_000);
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }, { type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
    ],
  });
  makePrivateDirectory(directory);
  writePrivateFile(keyPath, pems.private);
  writePrivateFile(certPath, pems.cert);
  return { key: pems.private, cert: pems.cert };
}

export async function loadTlsMaterial(config: TlsConfig, dataDir: string, hostname: string, log: Logger): Promise<TlsMaterial> {
  const sniOptions = new Map<string, SecureContextOptions>(
    Object.entries(config.sni).map(([name, files]) => [
      name,
      { key: readPem(files.keyFile, `tls.sni.${name}.keyFile`), cert: readPem(files.certFile, `tls.sni.${name}.certFile`) },
    ]),
  );
  if (config.certFile && config.keyFile) {
    return { key: readPem(config.keyFile, 'tls.keyFile'), cert: readPem(config.certFile, 'tls.certFile'), sniOptions, minVersion: config.minVersion, selfSigned: false };
  }
  const pair = await selfSignedPair(dataDir, hostname);
  log.warn(
    { certificate: join(dataDir, 'tls', 'self-signed.crt') },
    'NO TLS CERTIFICATE CONFIGURED: using a self-signed certificate. Clients that verify certificates will refuse it; set tls.certFile and tls.keyFile for production.',
  );
  return { ...pair, sniOptions, minVersion: config.minVersion, selfSigned: true };
}

/** TLS options for smtp-server; TLS 1.0/1.1 need OpenSSL security level 0 to be usable at all. */
export function tlsServerOptions(material: TlsMaterial): SecureContextOptions & { sniOptions: Map<string, SecureContextOptions> } {
  const legacy = material.minVersion === 'TLSv1' || material.minVersion === 'TLSv1.1';
  const base = { minVersion: material.minVersion, ...(legacy ? { ciphers: 'DEFAULT:@SECLEVEL=0' } : {}) };
  return {
    ...base,
    key: material.key,
    cert: material.cert,
    sniOptions: new Map([...material.sniOptions].map(([name, options]) => [name, { ...base, ...options }])),
  };
}
