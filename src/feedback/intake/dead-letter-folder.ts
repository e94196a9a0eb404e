import { randomBytes } from 'node:crypto';
import { mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';

/** Who sent a dead letter and why intake could not use it; written above the message as X-Relaygate-* fields. */
export interface DeadLetterInfo {
  reason: string;
  mailFrom: string;
  recipients: readonly string[];
  remoteAddress: string;
  receivedAt: number;
}

const printable = (text: string) => text.replace(/[^\x20-\x7e]+/g, ' ');

/**
 * `<dataDir>/dead-letter/`: feedback that intake could not apply, kept whole (mode 0600) for an operator to read,
 * fsynced before the sender is told 250.
 */
export class DeadLetterFolder {
  constructor(readonly directory: string) {}

  /** Stores the message and returns its file name. */
  async keep(raw: Buffer, info: DeadLetterInfo): Promise<string> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const name = `${new Date(info.receivedAt).toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}.eml`;
    const preamble = [
      `X-Relaygate-Dead-Letter: ${printable(info.reason)}`,
      `X-Relaygate-Envelope-From: <${printable(info.mailFrom)}>`,
      `X-Relaygate-Envelope-To: ${info.recipients.map((recipient) => `<${printable(recipient)}>`).join(', ')}`,
      `X-Relaygate-Remote-Address: ${printable(info.remoteAddress)}`,
      `X-Relaygate-Received: ${new Date(info.receivedAt).toISOString()}`,
      '',
    ].join('\r\n');
    const file = await open(join(this.directory, name), 'wx', 0o600);
    try {
      await file.writev([Buffer.from(preamble, 'latin1'), raw]);
      await file.sync();
    } finally {
      await file.close();
    }
    const directory = await open(this.directory, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    return name;
  }
}
