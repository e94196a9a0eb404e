import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { DkimError } from './dkim-error.js';

export type DkimKeyKind = 'rsa-2048' | 'rsa-1024' | 'ed25519';
export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimPublicKey {
  /** The p= value: base64 DER SubjectPublicKeyInfo for RSA, the raw 32-byte key for Ed25519 (RFC 8463). */
  publicKeyDnsValue: string;
  algorithm: DkimAlgorithm;
}

export interface DkimKey extends DkimPublicKey {
  /** PKCS#8 PEM. */
  privateKeyPem: string;
}

const MIN_RSA_BITS = 1024;
const MAX_RSA_BITS = 4096;
const PRIVATE_KEY_LABELS = ['PRIVATE KEY', 'RSA PRIVATE KEY'];

export function generateDkimKey(kind: DkimKeyKind): DkimKey {
  const { privateKey } = kind === 'ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('rsa', { modulusLength: kind === 'rsa-2048' ? 2048 : 1024 });
  return { privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), ...describePublicKey(privateKey) };
}

/** Checks a bring-your-own private key (PKCS#8 or PKCS#1 PEM) and derives what goes in DNS. */
export function publicKeyFromPrivate(privateKeyPem: string): DkimPublicKey {
  return describePublicKey(readPrivateKey(privateKeyPem));
}

/** The checked private key as a KeyObject, ready to sign with, and the algorithm it signs for. */
export function loadPrivateKey(privateKeyPem: string): { key: KeyObject; algorithm: DkimAlgorithm } {
  const key = readPrivateKey(privateKeyPem);
  return { key, algorithm: key.asymmetricKeyType === 'ed25519' ? 'ed25519-sha256' : 'rsa-sha256' };
}

function readPrivateKey(pem: string): KeyObject {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1];
  if (!label) throw new DkimError('the DKIM private key is not PEM: expected a "-----BEGIN PRIVATE KEY-----" or "-----BEGIN RSA PRIVATE KEY-----" block');
  if (label.includes('ENCRYPTED') || /Proc-Type:\s*4,ENCRYPTED/.test(pem)) throw new DkimError('the DKIM private key is encrypted; supply it without a passphrase');
  if (label.includes('PUBLIC KEY') || label === 'CERTIFICATE') throw new DkimError(`a "${label}" block was given, but DKIM signing needs the private key`);
  if (!PRIVATE_KEY_LABELS.includes(label)) throw new DkimError(`"BEGIN ${label}" is not a supported DKIM private key; use an RSA or Ed25519 key in PKCS#8 or PKCS#1 PEM`);

  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch (err) {
    throw new DkimError(`the DKIM private key could not be decoded (damaged or truncated PEM?): ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS || bits > MAX_RSA_BITS) throw new DkimError(`the DKIM RSA key is ${bits} bits; it must be ${MIN_RSA_BITS} to ${MAX_RSA_BITS} bits`);
  } else if (key.asymmetricKeyType !== 'ed25519') {
    throw new DkimError(`the DKIM private key is of type ${key.asymmetricKeyType}; DKIM supports RSA and Ed25519`);
  }
  return key;
}

function describePublicKey(privateKey: KeyObject): DkimPublicKey {
  const publicKey = createPublicKey(privateKey);
  if (publicKey.asymmetricKeyType === 'ed25519') {
    const rawKey = Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    return { publicKeyDnsValue: rawKey.toString('base64'), algorithm: 'ed25519-sha256' };
  }
  return { publicKeyDnsValue: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'), algorithm: 'rsa-sha256' };
}
