import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { makePrivateDirectory, writePrivateFile } from '../../common/private-files.js';
import { join } from 'node:path';

/** The key pair that signs webhook notifications, and the certificate subscribers fetch from SigningCertURL. */
export interface SigningMaterial {
  privateKey: KeyObject;
  certificatePem: string;
  /** File name the certificate is served under: SNS's form, `SimpleNotificationService-<hash>.pem`. */
  certificateName: string;
}

/** An SNS HTTP(S) notification: the fields, in SNS's order, of the JSON body POSTed to a subscriber. */
export interface SnsNotification {
  Type: 'Notification';
  MessageId: string;
  TopicArn: string;
  Subject?: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: '2';
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL: string;
}

const KEY_FILE = 'sns-signing.key';
const CERT_FILE = 'sns-signing.pem';

/** Loads the signing key pair from `<dataDir>/events/`, generating it (key file mode 0600) on first use. */
export async function loadSigningMaterial(dataDir: string, commonName: string): Promise<SigningMaterial> {
  const directory = join(dataDir, 'events');
  const keyPath = join(directory, KEY_FILE);
  const certPath = join(directory, CERT_FILE);
  if (!existsSync(keyPath) || !existsSync(certPath)) {
    const notBeforeDate = new Date();
    const { generate } = await import('selfsigned'); // loaded only to make one (tls-material.ts says why)
    const pems = await generate([{ name: 'commonName', value: commonName }], {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate: new Date(notBeforeDate.getTime() + 10 * 365 * 86_400_000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true },
      ],
    });
    makePrivateDirectory(directory);
    writePrivateFile(keyPath, pems.private);
    writePrivateFile(certPath, pems.cert);
  }
  const certificatePem = readFileSync(certPath, 'utf8');
  const hash = createHash('sha256').update(certificatePem).digest('hex').slice(0, 32);
  return { privateKey: createPrivateKey(readFileSync(keyPath, 'utf8')), certificatePem, certificateName: `SimpleNotificationService-${hash}.pem` };
}

/** The fields SNS signs for a Notification, in this order, each as "Key\nvalue\n"; Subject only when present. */
const SIGNED_KEYS = ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'] as const;

export function notificationStringToSign(notification: Partial<Record<(typeof SIGNED_KEYS)[number], string>>): string {
  return SIGNED_KEYS.filter((key) => notification[key] !== undefined)
    .map((key) => `${key}\n${notification[key]}\n`)
    .join('');
}

/** Signs notifications as SNS does with SignatureVersion 2 (RSA with SHA-256 over the string to sign). */
export class SnsSigner {
  constructor(
    private readonly material: SigningMaterial,
    /** Where the gateway serves the certificate, e.g. `https://relay.example.com:8081/` (ending in a slash). */
    private readonly urlBase: string,
  ) {}

  get signingCertUrl(): string {
    return `${this.urlBase}${this.material.certificateName}`;
  }

  unsubscribeUrl(subscriptionArn: string): string {
    return `${this.urlBase}?Action=Unsubscribe&SubscriptionArn=${encodeURIComponent(subscriptionArn)}`;
  }

  /** A signed Notification carrying `message`; `subject` is left out when empty. */
  notification(fields: { messageId: string; topicArn: string; subject: string; message: string; timestamp: string; subscriptionArn: string }): SnsNotification {
    const unsigned = {
      Type: 'Notification' as const,
      MessageId: fields.messageId,
      TopicArn: fields.topicArn,
      ...(fields.subject ? { Subject: fields.subject } : {}),
      Message: fields.message,
      Timestamp: fields.timestamp,
      SignatureVersion: '2' as const,
    };
    const signature = sign('sha256', Buffer.from(notificationStringToSign(unsigned), 'utf8'), this.material.privateKey);
    return {
      ...unsigned,
      Signature: signature.toString('base64'),
      SigningCertURL: this.signingCertUrl,
      UnsubscribeURL: this.unsubscribeUrl(fields.subscriptionArn),
    };
  }
}
