import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface TestCertificate {
  key: string;
  /** PEM; self-signed, so a client trusts it by passing it as `ca`. */
  cert: string;
}

const certificatesByNames = new Map<string, Promise<TestCertificate>>();

/**
 * A throwaway server certificate valid for `names` (host names or IP addresses), the first being the CN, with an RSA
 * key or an ECDSA P-256 one. RSA key generation takes ~0.1-0.2 s, so certificates are shared per key type and names.
 */
export function createTestCertificate(names: string[], keyType: 'rsa' | 'ec' = 'rsa'): Promise<TestCertificate> {
  const key = `${keyType} ${names.join(' ')}`;
  let certificate = certificatesByNames.get(key);
  if (!certificate) certificatesByNames.set(key, (certificate = generateCertificate(names, keyType)));
  return certificate;
}

async function generateCertificate(names: string[], keyType: 'rsa' | 'ec'): Promise<TestCertificate> {
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    ...(keyType === 'ec' ? { keyType: 'ec', curve: 'P-256' } : { keyType: 'rsa', keySize: 2048 }),
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: keyType === 'rsa' },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
