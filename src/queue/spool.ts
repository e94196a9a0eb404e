import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { open, readdir, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { makePrivateDirectory, PRIVATE_FILE_MODE } from '../common/private-files.js';

/** A body file being written; `flush: true` makes the stream fsync the file before it closes. */
export interface SpoolFile {
  /** Path relative to the spool directory, as stored in the queue. */
  name: string;
  path: string;
  directory: string;
  stream: WriteStream;
}

/**
 * Message bodies as files under <dataDir>/spool/<hour>/<message id>. Grouping by hour keeps
 * directories small and lets one directory fsync cover every file of a commit batch. Directories
 * are 0700 and files 0600: they hold mail.
 */
export class Spool {
  readonly root: string;

  constructor(dataDir: string) {
    this.root = join(dataDir, 'spool');
    makePrivateDirectory(this.root);
  }

  create(messageId: string, receivedAt: Date): SpoolFile {
    const hour = receivedAt.toISOString().slice(0, 13).replace(/[-T]/g, '');
    const directory = join(this.root, hour);
    // A new hour directory is fsynced into the spool directory at once (once an hour); its files' names by syncDirectories().
    makePrivateDirectory(directory);
    const name = `${hour}/${messageId}`;
    const path = join(this.root, name);
    const stream = createWriteStream(path, { flags: 'wx', flush: true, mode: PRIVATE_FILE_MODE });
    // A write error reaches whoever waits on the file (the body sink's writes, sync()). This listener is for the
    // errors nobody waits for any more: a write that discard() interrupted ends with ERR_STREAM_DESTROYED.
    stream.on('error', () => undefined);
    return { name, path, directory, stream };
  }

  /** Waits until the file's data is on disk; fails if a write, the fsync or the close failed, even before the call. */
  async sync(file: SpoolFile): Promise<void> {
    if (!file.stream.closed) await finished(file.stream);
    if (file.stream.errored) throw file.stream.errored;
  }

  /** Makes the new directory entries durable (a file's own fsync does not cover its name). */
  async syncDirectories(directories: Iterable<string>): Promise<void> {
    await Promise.all(
      [...new Set(directories)].map(async (directory) => {
        const handle = await open(directory, 'r');
        try {
          await handle.sync();
        } finally {
          await handle.close();
        }
      }),
    );
  }

  /** Every body file, as `hour/messageId` names. */
  async listFiles(): Promise<string[]> {
    const names: string[] = [];
    for (const hour of await readdir(this.root)) {
      for (const file of await readdir(join(this.root, hour))) names.push(`${hour}/${file}`);
    }
    return names;
  }

  /** Removes a body that will not be accepted, once its stream is closed: after that no pending open or write can recreate it. */
  async discard(file: SpoolFile): Promise<void> {
    const { stream } = file;
    if (!stream.closed) {
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      stream.destroy();
      await closed;
    }
    await rm(file.path, { force: true });
  }

  read(name: string): NodeJS.ReadableStream {
    return createReadStream(join(this.root, name));
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.root, name));
  }
}
