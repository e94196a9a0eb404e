import { createHmac } from 'node:crypto';

// Constants of the SES "version 4" SMTP password algorithm; the guide says never to change them.
const DATE = '11111111';
const SERVICE = 'ses';
const TERMINAL = 'aws4_request';
const MESSAGE = 'SendRawEmail';
const VERSION = 0x04;

function hmac(key: Buffer | string, message: string): Buffer {
  return createHmac('sha256', key).update(message, 'utf8').digest();
}

/** Derives the SES SMTP password for a secret access key in a region, exactly as the SES guide's script does. */
export function deriveSmtpPassword(secretAccessKey: string, region: string): string {
  let signature = hmac(`AWS4${secretAccessKey}`, DATE);
  for (const part of [region, SERVICE, TERMINAL, MESSAGE]) signature = hmac(signature, part);
  return Buffer.concat([Buffer.from([VERSION]), signature]).toString('base64');
}
