import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { OutboundRecord, Transport } from './transport.js';

export interface FileRotation {
  /** A file that would grow past this many bytes is renamed to `.1` first (older ones move up to `.2` …). */
  maxBytes: number;
  /** Rotated files kept besides the current one; the oldest beyond this is removed. */
  keep: number;
}

/**
 * Appends records to a file, one JSON record per line (as SES follows each Firehose record with a newline), and
 * fsyncs before `send` resolves. Rotated by size: a line that would take the file past maxBytes goes to a new file,
 * the full one becoming `events.jsonl.1` (`.1` becomes `.2`, … up to `.keep`; the oldest is removed).
 */
export class JsonLinesTransport implements Transport {
  private file: FileHandle | null = null;
  private size = 0;

  constructor(
    private readonly path: string,
    private readonly rotation: FileRotation,
  ) {}

  async send(records: readonly OutboundRecord[]): Promise<void> {
    if (records.length === 0) return;
    try {
      let file = await this.open();
      let chunk: Buffer[] = [];
      let chunkBytes = 0;
      for (const record of records) {
        const line = Buffer.from(`${record.body}\n`, 'utf8');
        if (this.size + chunkBytes > 0 && this.size + chunkBytes + line.length > this.rotation.maxBytes) {
          await this.write(file, chunk);
          await this.rotate();
          file = await this.open();
          chunk = [];
          chunkBytes = 0;
        }
        chunk.push(line);
        chunkBytes += line.length;
      }
      await this.write(file, chunk);
    } catch (error) {
      // Reopen next time: after a failed write the size is unknown.
      await this.close().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = null;
    await file?.close();
  }

  /** Appends the lines and fsyncs: when send resolves, they are on disk. */
  private async write(file: FileHandle, lines: Buffer[]): Promise<void> {
    if (lines.length === 0) return;
    const data = Buffer.concat(lines);
    await file.write(data);
    await file.sync();
    this.size += data.length;
  }

  private async open(): Promise<FileHandle> {
    if (this.file) return this.file;
    await mkdir(dirname(this.path), { recursive: true });
    this.file = await open(this.path, 'a', 0o640);
    this.size = (await this.file.stat()).size;
    return this.file;
  }

  private async rotate(): Promise<void> {
    await this.close();
    await rm(`${this.path}.${this.rotation.keep}`, { force: true });
    for (let index = this.rotation.keep - 1; index >= 1; index--) {
      await rename(`${this.path}.${index}`, `${this.path}.${index + 1}`).catch(ignoreMissing);
    }
    if (this.rotation.keep > 0) await rename(this.path, `${this.path}.1`);
    else await rm(this.path, { force: true });
  }
}

function ignoreMissing(error: NodeJS.ErrnoException): void {
  if (error.code !== 'ENOENT') throw error;
}
