import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface TestCertificate {
  key: string;
  /** PEM; self-signed, so a client trusts it by passing it as `ca`. */
  cert: string;
}

const certificatesByNames = new Map<string, Promise<TestCertificate>>();

/**
 * A throwaway server certificate valid for `names` (host names or IP addresses), the first being the CN. RSA because
 * selfsigned 5.5.0 fails on EC keys ("Cannot get schema for 'AlgorithmIdentifier'"); RSA key generation takes
 * ~0.1-0.2 s, so certificates are shared per set of names.
 */
export function createTestCertificate(names: string[]): Promise<TestCertificate> {
  const key = names.join(' ');
  let certificate = certificatesByNames.get(key);
  if (!certificate) certificatesByNames.set(key, (certificate = generateCertificate(names)));
  return certificate;
}

async function generateCertificate(names: string[]): Promise<TestCertificate> {
  const pems = await generate([{ name: 'commonName', value: names[0] ?? 'localhost' }], {
    algorithm: 'sha256',
    keySize: 2048,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((name) => (isIP(name) ? { type: 7, ip: name } : { type: 2, value: name })),
      },
    ],
  });
  return { key: pems.private, cert: pems.cert };
}
