import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Who sent a dead letter and why intake could not use it; written above the message as X-Relaygate-* fields. */
export interface DeadLetterInfo {
  reason: string;
  mailFrom: string;
  recipients: readonly string[];
  remoteAddress: string;
  receivedAt: number;
}

export interface KeptLetter {
  /** The new letter's file name. */
  file: string;
  /** Older letters removed to keep the folder within its size. */
  removed: string[];
}

const printable = (text: string) => text.replace(/[^\x20-\x7e]+/g, ' ');
const LETTER_NAME = /^\d{8}T\d{9}Z-[0-9a-f]{12}\.eml$/;

/**
 * `<dataDir>/dead-letter/`: feedback that intake could not apply, kept whole (mode 0600) for an operator to read,
 * fsynced before the sender is told 250. Anyone who received mail from the gateway can send to its return path, so
 * the folder is kept within `maxBytes`: the oldest letters go first (their names start with their time).
 */
export class DeadLetterFolder {
  /**
   * The letters' sizes by name, oldest first: those found when the folder was first read (before any letter of this
   * process was written), then each new one; changed by one keep() at a time.
   */
  private letters: Promise<Map<string, number>> | null = null;
  private bytes = 0;
  private accounting: Promise<unknown> = Promise.resolve();

  constructor(
    readonly directory: string,
    private readonly maxBytes: number,
  ) {}

  /** Stores the message, then removes the oldest letters while the folder is over its size. */
  async keep(raw: Buffer, info: DeadLetterInfo): Promise<KeptLetter> {
    await mkdir(this.directory, { recursive: true, mode: 0o700 });
    const letters = await (this.letters ??= this.read().catch((error: unknown) => {
      this.letters = null;
      throw error;
    }));
    const file = `${new Date(info.receivedAt).toISOString().replace(/[-:.]/g, '')}-${randomBytes(6).toString('hex')}.eml`;
    const preamble = Buffer.from(
      [
        `X-Relaygate-Dead-Letter: ${printable(info.reason)}`,
        `X-Relaygate-Envelope-From: <${printable(info.mailFrom)}>`,
        `X-Relaygate-Envelope-To: ${info.recipients.map((recipient) => `<${printable(recipient)}>`).join(', ')}`,
        `X-Relaygate-Remote-Address: ${printable(info.remoteAddress)}`,
        `X-Relaygate-Received: ${new Date(info.receivedAt).toISOString()}`,
        '',
      ].join('\r\n'),
      'latin1',
    );
    const handle = await open(join(this.directory, file), 'wx', 0o600);
    try {
      await handle.writev([preamble, raw]);
      await handle.sync();
    } finally {
      await handle.close();
    }
    const directory = await open(this.directory, 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    const removed = this.accounting.then(() => this.makeRoom(letters, file, preamble.length + raw.length));
    this.accounting = removed.catch(() => undefined);
    return { file, removed: await removed };
  }

  private async makeRoom(letters: Map<string, number>, file: string, size: number): Promise<string[]> {
    letters.set(file, size);
    this.bytes += size;
    const removed: string[] = [];
    for (const [name, letterSize] of letters) {
      if (this.bytes <= this.maxBytes || name === file) break;
      // The new letter is stored already: a letter that cannot be removed leaves the folder over its size until a
      // later letter tries again, and does not fail this one.
      const gone = await unlink(join(this.directory, name)).then(
        () => true,
        (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
      );
      if (!gone) break;
      letters.delete(name);
      this.bytes -= letterSize;
      removed.push(name);
    }
    return removed;
  }

  /** The letters in the folder, oldest first; files not named as the gateway names letters are left out and alone. */
  private async read(): Promise<Map<string, number>> {
    const names = (await readdir(this.directory)).filter((name) => LETTER_NAME.test(name)).sort();
    const letters = new Map<string, number>();
    for (const name of names) {
      const size = await stat(join(this.directory, name)).then((stats) => stats.size, () => null);
      if (size === null) continue;
      letters.set(name, size);
      this.bytes += size;
    }
    return letters;
  }
}
